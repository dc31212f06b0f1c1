"""The core layer: types, graph, the Op contract, ops, gradients, FunctionGraph and function().

May import labsym.config and labsym.utils; never optim, backends, viz or magics.
"""
