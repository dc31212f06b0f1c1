"""The optimizer: pattern and node rules, the ordered phase pipeline, rewrite history.

May import core; never backends, viz, compile or magics.
"""
