"""JSON helpers at DocArray's path (``docstack.base_doc.io.json``)."""
