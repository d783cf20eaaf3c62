"""Open the ``events`` collection with QGIS's OAPIF provider and apply layer filters.

Run by Debian's ``/usr/bin/python3``, which has PyQGIS (``apt-get install python3-qgis
qgis-providers``), not by pytest's interpreter: ``tests/api/test_qgis_interop.py`` starts it as a
subprocess. Headless (``QT_QPA_PLATFORM=offscreen``). Arguments: the API's landing page URL, then
one layer filter per argument (QGIS expressions, what *Filter…* in a layer's menu takes; "" is
no filter). Prints one JSON object on stdout: the QGIS version, the layer's field types and, for
each filter, whether QGIS accepted it and the ids of the features the layer then gives.
Exit 2 if the layer cannot be opened.
"""

from __future__ import annotations

import json
import sys

from qgis.core import Qgis, QgsApplication, QgsVectorLayer  # type: ignore[import-not-found]


def main(base_url: str, filters: list[str]) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    try:
        layer = QgsVectorLayer(f"url='{base_url}' typename='events'", "events", "OAPIF")
        if not layer.isValid():
            sys.stderr.write(f"QGIS could not open the layer: {layer.error().summary()}\n")
            return 2
        answers = []
        for expression in filters:
            accepted = layer.setSubsetString(expression)
            ids = sorted(str(feature["id"]) for feature in layer.getFeatures())
            answers.append({"filter": expression, "accepted": accepted, "ids": ids})
        fields = {field.name(): field.typeName() for field in layer.fields()}
        sys.stdout.write(json.dumps({"version": Qgis.QGIS_VERSION, "fields": fields, "answers": answers}))
        del layer  # before exitQgis(): a layer that outlives its provider registry crashes Python's exit
        return 0
    finally:
        app.exitQgis()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
