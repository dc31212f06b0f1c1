"""06 debugging: test values, debugprint, runtime errors, the node inspector, NanGuardMode and
profiling tables."""

from cells import GRAPH, HTML, code, md

CELLS = [
    md(
        """
        # 06 · Debugging

        A symbolic program fails in two places: while you *build* the graph (a shape error
        is then only found when the compiled function runs, far from the line that caused
        it), and while it *runs* (a NaN appears somewhere among hundreds of nodes). labsym
        has a tool for each.
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        from labsym import config, function
        from labsym.printing import debugprint, min_informative_str
        """
    ),
    md(
        """
        ## A shape error found only at run time

        Adding a vector of 2 and a vector of 3 builds a perfectly fine graph: the shapes are
        unknown until values arrive. The error comes from the call, and names the node and
        the line that created it.
        """
    ),
    code(
        """
        x = T.vector("x")
        y = T.vector("y")
        z = x + x
        z = z + y
        f = function([x, y], z)
        try:
            f(np.ones((2,)), np.ones((3,)))
        except ValueError as err:
            print(err)
        """
    ),
    md(
        """
        ## Test values: the error at the line that causes it

        With `compute_test_value = 'raise'`, every variable carries a *test value* and every
        operation is computed on them as the graph is built, so the bad line itself raises.
        (The `try` only keeps this notebook running: normally you would let it raise.)
        """
    ),
    code(
        """
        with config.change_flags(compute_test_value="raise"):
            x = T.vector("x")
            x.tag.test_value = np.ones((2,))
            y = T.vector("y")
            y.tag.test_value = np.ones((3,))
            try:
                z = x + y  # <- the error is raised here, while building
            except ValueError as err:
                print(err)
        """
    ),
    md(
        """
        In a notebook the `%%symfunc` magic (notebook 09) does this for you: an input
        declared as `x: dvector[2]` gets a test value of shape `(2,)`, and a shape error is
        reported at the line of the cell that causes it, `In [n], line k`.
        """
    ),
    code(
        """
        %load_ext labsym
        ip = get_ipython()
        try:
            ip.run_cell_magic("symfunc", "bad(x: dvector[2], y: dvector[3]) -> z", "h = x * 2\\nz = h + y\\n")
        except Exception as err:  # in a cell of its own it would show as the cell's error
            print(f"{type(err).__name__}: {err}")
        """
    ),
    md(
        """
        ## Printing graphs as text

        `debugprint` prints one line per node, inputs indented below the node that uses
        them; `min_informative_str` gives short names to repeated subexpressions.
        """
    ),
    code(
        """
        x = T.scalar("x")
        y = T.scalar("y")
        z = x + y
        z.name = "z"
        a = 2.0 * z
        print(min_informative_str(a))
        debugprint(a)
        """
    ),
    code(
        """
        %debugprint a
        """
    ),
    md(
        """
        ## Finding the first NaN: the node inspector

        `NodeInspector(f, *inputs)` runs the function once and tabulates every intermediate
        value (shape, dtype, min, max, mean, number of NaN and Inf). The first node that
        produced a NaN or an Inf is highlighted in the table and in the graph.
        """
    ),
    code(
        """
        from labsym.magics.widgets import NodeInspector

        v = T.dvector("v")
        out = T.sqrt(v) * T.log(v + 1)
        f = function([v], out, mode="FAST_COMPILE")
        inspector = NodeInspector(f, [4.0, 1.0, -0.5])
        print("first bad node:", inspector.first_bad.node)
        inspector
        """,
        HTML,
    ),
    md(
        """
        ## NanGuardMode: stop at the first NaN, Inf or huge value

        Compiling with `NanGuardMode` checks every node's inputs and outputs on each call and
        raises at the first bad one, naming the node and the line that created it.
        """
    ),
    code(
        """
        from labsym.compile.nanguardmode import NanGuardMode

        guarded = function(
            [v], out, mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)
        )
        print(guarded([4.0, 1.0]))
        try:
            guarded([4.0, 1.0, -0.5])
        except Exception as err:
            print(type(err).__name__, "--", str(err).splitlines()[0])
        """
    ),
    md(
        """
        ## Profiling: where does the time go?

        `function(..., profile=True)` records the time spent in every node. Its profile
        shows Theano's three tables (by op class, by op, by node) and a graph coloured by the
        share of time; `f.profile.summary()` prints Theano's text layout.
        """
    ),
    code(
        """
        rng = np.random.RandomState(0)
        X = T.dmatrix("X")
        W = theano.shared(rng.randn(200, 100), name="W")
        h = T.tanh(T.dot(X, W))
        cost = (h**2).mean()
        step = function([X], [cost, T.grad(cost, W)], profile=True)
        data = rng.randn(500, 200)
        for _ in range(20):
            step(data)
        step.profile
        """,
        HTML,
        GRAPH,
    ),
    code(
        """
        import sys

        step.profile.summary(file=sys.stdout, n_ops_to_print=5, n_apply_to_print=5)
        """
    ),
    code(
        """
        %symprofile step
        """,
        HTML,
    ),
]
