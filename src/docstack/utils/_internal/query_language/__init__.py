"""DocArray's lookup helpers at their private path; docstack's filters live in
:mod:`docstack.utils.filter`."""
