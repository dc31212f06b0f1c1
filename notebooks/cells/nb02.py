"""02 more examples: logistic function, multiple outputs, defaults, shared variables, random
numbers, and the logistic-regression case study trained under the TrainingMonitor."""

from cells import GRAPH, HTML, SVG, code, md

CELLS = [
    md(
        """
        # 02 · More examples

        The examples of Theano's "More examples" tutorial: the logistic function, functions
        with several outputs, default argument values, shared variables and updates, random
        numbers, and finally a complete logistic-regression classifier trained with a live
        **training monitor**.
        """
    ),
    code(
        """
        import numpy as np

        import labsym.tensor as T
        from labsym import In, function, shared
        """
    ),
    md(
        """
        ## The logistic function

        $s(x) = \\frac{1}{1 + e^{-x}}$, applied elementwise to a matrix: every operation on a
        tensor is elementwise unless it says otherwise.
        """
    ),
    code(
        """
        x = T.dmatrix("x")
        s = 1 / (1 + T.exp(-x))
        logistic = function([x], s)
        logistic([[0, 1], [-1, -2]])
        """
    ),
    md(
        """
        The same function can be written with `tanh`, since $s(x) = \\frac{1 + \\tanh(x/2)}{2}$;
        both give the same values. Here is the graph of the first form:
        """
    ),
    code(
        """
        s2 = (1 + T.tanh(x / 2)) / 2
        logistic2 = function([x], s2)
        assert np.allclose(logistic2([[0, 1], [-1, -2]]), logistic([[0, 1], [-1, -2]]))
        s
        """,
        SVG,
        GRAPH,
    ),
    md(
        """
        ## Several outputs at once

        Give `function` a list of outputs and it returns a list of arrays. Shared
        subexpressions (here `diff`) are computed once.
        """
    ),
    code(
        """
        a, b = T.dmatrices("a", "b")
        diff = a - b
        abs_diff = abs(diff)
        diff_squared = diff**2
        f = function([a, b], [diff, abs_diff, diff_squared])
        f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
        """
    ),
    md(
        """
        ## Default values and keyword arguments

        `In(variable, value=...)` gives an input a default; named inputs can be passed by
        keyword, and `In(..., name=...)` renames the keyword.
        """
    ),
    code(
        """
        x, y, w = T.dscalars("x", "y", "w")
        z = (x + y) * w
        f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], z)
        print(f(33))
        print(f(33, 2))
        print(f(33, 0, 1))
        print(f(33, w_by_name=1))
        print(f(33, w_by_name=1, y=0))
        """
    ),
    md(
        """
        ## Shared variables and updates

        A *shared variable* holds a value that lives between calls: the function reads it
        and, through `updates`, replaces it after computing the outputs. This is how model
        parameters are trained.
        """
    ),
    code(
        """
        state = shared(0)
        inc = T.iscalar("inc")
        accumulator = function([inc], state, updates=[(state, state + inc)])
        print(state.get_value())
        accumulator(1)
        print(state.get_value())
        accumulator(300)
        print(state.get_value())
        state.set_value(-1)
        accumulator(3)
        print(state.get_value())
        """
    ),
    md(
        """
        Several functions may share one state. `givens` substitutes another expression for a
        variable inside one function, leaving the shared variable untouched:
        """
    ),
    code(
        """
        decrementor = function([inc], state, updates=[(state, state - inc)])
        decrementor(2)
        print(state.get_value())

        fn_of_state = state * 2 + inc
        foo = T.scalar(dtype=state.dtype)  # the type must match the variable it replaces
        skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
        print(skip_shared(1, 3))  # uses foo = 3 instead of state
        print(state.get_value())  # old state still there
        """
    ),
    md(
        """
        The compile report of `accumulator` lists its update: the dashed edge in the graph
        goes back from the new value to the shared variable.
        """
    ),
    code("accumulator", HTML, GRAPH),
    md(
        """
        ## Random numbers

        Random draws are part of the graph too: a `RandomStreams` object makes random
        variables whose generator state is a shared variable, updated on every call (unless
        `no_default_updates=True`).
        """
    ),
    code(
        """
        from labsym.tensor.shared_randomstreams import RandomStreams

        srng = RandomStreams(seed=234)
        rv_u = srng.uniform((2, 2))
        rv_n = srng.normal((2, 2))
        f = function([], rv_u)
        g = function([], rv_n, no_default_updates=True)  # not updating rv_n.rng
        nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
        print(f())
        print(f())  # different numbers
        print(g())
        print(g())  # the same numbers again
        print(nearly_zeros())  # one draw per call, used three times
        """
    ),
    md(
        """
        ## Case study: logistic regression

        A linear classifier $p(y=1 \\mid x) = s(x \\cdot w + b)$ trained by gradient descent on
        the cross-entropy, with a small L2 penalty. The data are random, so the model can only
        memorise them, but that is enough to watch the cost go down.

        `T.grad` derives the gradients symbolically (notebook 03 explains how); the
        `updates` apply one step of gradient descent on every call of `train`.
        """
    ),
    code(
        """
        rng = np.random.RandomState(0)
        N, feats = 400, 784
        D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
        training_steps = 300

        x = T.dmatrix("x")
        y = T.dvector("y")
        w = shared(rng.randn(feats), name="w")
        b = shared(0.0, name="b")

        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # probability that the target is 1
        prediction = p_1 > 0.5
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # cross-entropy loss
        cost = xent.mean() + 0.01 * (w**2).sum()
        gw, gb = T.grad(cost, [w, b])

        train = function(
            inputs=[x, y],
            outputs=[prediction, xent.mean()],
            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
        )
        predict = function(inputs=[x], outputs=prediction)
        """
    ),
    md(
        """
        `TrainingMonitor` shows a progress bar with rate and ETA and a live chart of every
        value the loop feeds it; outside a notebook it falls back to a text bar.
        """
    ),
    code(
        """
        from labsym.magics import TrainingMonitor

        with TrainingMonitor(total=training_steps, title="logistic regression", every=10) as monitor:
            for step in range(training_steps):
                pred, err = train(D[0], D[1])
                monitor.update(step + 1, cost=err, accuracy=(pred == D[1]).mean())
        """,
        HTML,
    ),
    code(
        """
        accuracy = (predict(D[0]) == D[1]).mean()
        print("target values:", D[1][:10])
        print("predictions:  ", predict(D[0])[:10].astype(int))
        print("accuracy", accuracy)
        assert accuracy > 0.95
        """
    ),
    md(
        """
        The compiled training function: note how few nodes remain after the rewrites (the
        elementwise operations are fused into `Composite` nodes, and the new `w`, weight
        decay and gradient step together, is one BLAS `Gemv` call).
        """
    ),
    code("train", HTML, GRAPH),
]
