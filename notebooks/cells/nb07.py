"""07 graph rewrites: the rewrite stepper on logistic regression; x/x, log(1+x), softmax."""

from cells import GRAPH, HTML, code, md

CELLS = [
    md(
        """
        # 07 · Graph rewrites

        `theano.function` does not run your graph as written. It first *rewrites* it, in
        phases: **merge** identical subgraphs, **canonicalize** (one standard form for
        equivalent expressions), **stabilize** (numerically safer forms), **specialize**
        (faster forms, BLAS calls), **fuse** elementwise chains into one loop, and finally
        work **in place** where no one else needs a buffer. A mode built with
        `.with_history()` records every rewrite, with the graph before and after.
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        from labsym import function, pp
        from labsym.magics.widgets import RewriteStepper

        history_mode = theano.Mode().with_history()
        """
    ),
    md(
        """
        ## `x / x` becomes ones

        Canonicalization knows that `x / x` is 1 wherever it is defined; what remains is a
        `fill`, "ones of the shape of x". No division is left.
        """
    ),
    code(
        """
        x = T.dvector("x")
        f = function([x], x / x, mode=history_mode)
        print(pp(f.maker.fgraph.outputs[0]))
        print(f([1.0, 2.0, 5.0]))
        f.maker.fgraph.history
        """,
        HTML,
        "application/vnd.labsym.rewrites+json",
    ),
    md(
        """
        ## `log(1 + x)` becomes `log1p(x)`

        For tiny `x`, `1 + x` rounds to 1 in floating point and `log(1 + x)` returns 0;
        `log1p` keeps the precision. The stabilize phase makes the switch for you.
        """
    ),
    code(
        """
        g = function([x], T.log(1 + x), mode=history_mode)
        print(pp(g.maker.fgraph.outputs[0]))
        tiny = np.array([1e-20])
        print("naive numpy:", np.log(1 + tiny), " labsym:", g(tiny))
        """
    ),
    md(
        """
        The **rewrite stepper** walks through the history one rewrite at a time: the rule,
        its mathematical form, and the subgraph before → after. Use the slider or the
        buttons (in a live notebook); the page below is the step it opened on.
        """
    ),
    code(
        """
        stepper = RewriteStepper(g)
        print(len(stepper), "rewrites:", [record.rule for record in stepper.records])
        stepper.go(len(stepper) - 1)  # the last step: log1p
        stepper
        """,
        HTML,
    ),
    md(
        """
        ## Softmax, stabilised

        Written by hand, $\\mathrm{softmax}(a) = e^{a} / \\sum e^{a}$ overflows as soon as
        an entry of `a` is large: $e^{1000}$ is infinite and $\\infty/\\infty$ is NaN. labsym
        recognises the pattern, replaces it by its `softmax` op, which subtracts the row
        maximum first, and the NaN is gone. Compiled *without* rewrites, the NaN stays.
        """
    ),
    code(
        """
        a = T.dmatrix("a")
        by_hand = T.exp(a) / T.exp(a).sum(axis=1, keepdims=True)
        raw = function([a], by_hand, mode=theano.Mode(optimizer=None))
        stable = function([a], by_hand, mode=history_mode)
        big = np.array([[1000.0, 1001.0, 1002.0]])
        with np.errstate(all="ignore"):
            print("without rewrites:", raw(big))
        print("with rewrites:   ", stable(big))
        print(pp(stable.maker.fgraph.outputs[0]))
        """
    ),
    code(
        """
        [(record.phase, record.rule, record.math) for record in stable.maker.fgraph.history]
        """
    ),
    md(
        """
        ## The logistic-regression training step

        The case study of notebook 02 has many more rewrites: the gradient's
        subexpressions merge with the forward pass, `1 / (1 + exp(-t))` becomes `sigmoid`,
        the logarithms of sigmoids become `softplus`, the update of `w` (weight decay and
        gradient step) becomes one BLAS `Gemv` call, and elementwise chains fuse into
        `Composite` nodes. Step through them:
        """
    ),
    code(
        """
        rng = np.random.RandomState(0)
        feats = 784
        x = T.dmatrix("x")
        y = T.dvector("y")
        w = theano.shared(rng.randn(feats), name="w")
        b = theano.shared(0.0, name="b")
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        prediction = p_1 > 0.5
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w**2).sum()
        gw, gb = T.grad(cost, [w, b])
        train = function(
            [x, y],
            [prediction, xent],
            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
            mode=history_mode,
        )
        train_stepper = RewriteStepper(train)
        print(len(train_stepper), "rewrites")
        train_stepper
        """,
        HTML,
    ),
    md(
        """
        The same from a magic: `%symrewrites FUNCTION` opens the stepper (compiling a copy
        with history if the function has none). And the result of all those rewrites is
        the graph in the compile report:
        """
    ),
    code(
        """
        %load_ext labsym
        %symrewrites train
        """,
        HTML,
    ),
    code("train", HTML, GRAPH),
]
