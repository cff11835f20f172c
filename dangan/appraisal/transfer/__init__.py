"""Transfer to the county archives (移交): item-level packages, out of one Dangan and into another.

A package is a BagIt bag in one tar file, written by ``intake.packages.write_bag`` (the same
code as the offline hand-over packages), whose payload follows the DA/T 93 layout::

    transfer-<uuid>/data/说明文件.txt                   description file (plain text)
    transfer-<uuid>/data/目录文件.xml                   catalogue file: one <item> per record
    transfer-<uuid>/data/<item>/元数据.xml              the record's metadata, persons and files
    transfer-<uuid>/data/<item>/<item>.eep             DA/T 48 EEP: metadata and base64 content
    transfer-<uuid>/data/<item>/<item>-0001.jpg        the content files, page by page

``<item>`` is the archival code with every character outside ``[0-9A-Za-z._-]`` written ``_``.
Our XML (catalogue and metadata files, namespace ``urn:dangan:transfer:1``) and the EEP subset
we write are described by the schemas in ``appraisal/schemas/`` (shipped with the
package); the receiving side validates every
XML file against them before it files anything. The transfer-stage four-property report
(DA/T 70, ``integrity.checks``) is run over the written package and kept.

``import_transfer`` files the records of a package unchanged: the same archival codes and item
numbers, the same field values, persons and category metadata, the same bytes (so the same
SHA-256 and SM3 digests) in the same page order.

One module per step: ``layout`` (names, namespaces, schemas), ``export`` (writing a package),
``checking`` (reading and checking one, nothing written), ``receiving`` (filing its records).
"""

from .checking import Item, Reading, check_transfer, first_evidence
from .export import Exported, catalogue_xml, eep_xml, export_transfer, record_xml
from .layout import EEP_NS, FORMAT, NS, item_dir, schema
from .receiving import Imported, TransferRefused, import_transfer

__all__ = [
    "EEP_NS",
    "FORMAT",
    "NS",
    "Exported",
    "Imported",
    "Item",
    "Reading",
    "TransferRefused",
    "catalogue_xml",
    "check_transfer",
    "eep_xml",
    "export_transfer",
    "first_evidence",
    "import_transfer",
    "item_dir",
    "record_xml",
    "schema",
]
