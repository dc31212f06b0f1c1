"""Inspection and display of graphs: debugprint, pp, min_informative_str (pure functions of data).

May import labsym.core and labsym.utils; never compile.py, magics or the facades.
"""
