"""labsym's notebook widgets: RewriteStepper, TrainingMonitor, NodeInspector (ipywidgets 8).

Their data (records, series, rows) works without a front end; ipywidgets is imported only when a
widget is built. May import labsym.compile, labsym.backends, labsym.viz.
"""

from labsym.magics.widgets.inspector import NodeInspector, ValueRow
from labsym.magics.widgets.monitor import TrainingMonitor
from labsym.magics.widgets.stepper import RewriteStepper

__all__ = ["NodeInspector", "RewriteStepper", "TrainingMonitor", "ValueRow"]
