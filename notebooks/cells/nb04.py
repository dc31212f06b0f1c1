"""04 loops: scan (power, polynomial, a matrix-vector loop, taps) with the graphs it draws."""

from cells import GRAPH, HTML, SVG, code, md

CELLS = [
    md(
        """
        # 04 · Loops with `scan`

        A graph has no Python `for` loop in it: a loop written in Python is *unrolled* into a
        graph as long as the loop. `theano.scan` instead puts the loop *inside* the graph, as
        one node whose body is itself a graph. Scan takes a step function and calls it once
        per element of its `sequences`, feeding back the previous results (`outputs_info`).
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        from labsym import function
        """
    ),
    md(
        """
        ## $A^k$ elementwise

        The step receives the previous result and the non-sequences; `n_steps` says how many
        times to run it. Scan returns every intermediate result; we keep the last.
        """
    ),
    code(
        """
        k = T.iscalar("k")
        A = T.vector("A")

        result, updates = theano.scan(
            fn=lambda prior_result, A: prior_result * A,
            outputs_info=T.ones_like(A),
            non_sequences=A,
            n_steps=k,
        )
        final_result = result[-1]
        power = function(inputs=[A, k], outputs=final_result, updates=updates)
        print(power(range(10), 2))
        print(power(range(10), 4))
        """
    ),
    md(
        """
        The compiled function's graph shows the `Scan` node (its body is drawn as a cluster
        in the drawing and in the JSON):
        """
    ),
    code("power", HTML, GRAPH),
    md(
        """
        ## Iterating over a sequence: a polynomial

        Each step receives one coefficient and its power; the results are summed afterwards.
        """
    ),
    code(
        """
        coefficients = T.vector("coefficients")
        x = T.scalar("x")
        max_coefficients_supported = 10000

        components, updates = theano.scan(
            fn=lambda coefficient, power, free_variable: coefficient * (free_variable**power),
            outputs_info=None,
            sequences=[coefficients, T.arange(max_coefficients_supported)],
            non_sequences=x,
        )
        polynomial = components.sum()
        calculate_polynomial = function(inputs=[coefficients, x], outputs=polynomial)

        test_coefficients = np.asarray([1, 0, 2], dtype=theano.config.floatX)
        print(calculate_polynomial(test_coefficients, 3))  # 1 + 0 * 3 + 2 * 3 ** 2 = 19
        """
    ),
    md(
        """
        ## A loop that should not be a loop

        This scan multiplies every column of `x` by `W` in turn. It works, but it is just a
        matrix product, and a single `dot` is one BLAS call instead of a loop. Compare the
        two graphs: the first has a `Scan` node, the second a single `dot`.
        """
    ),
    code(
        """
        x = T.matrix("x")
        W = T.matrix("W")
        out, _ = theano.scan(lambda x, W: T.dot(W, x), sequences=x, non_sequences=W)
        out
        """,
        SVG,
        GRAPH,
    ),
    code(
        """
        xv = np.random.rand(5, 3)
        Wv = np.random.rand(4, 3)
        looped = function([x, W], out)(xv, Wv)
        direct = function([x, W], T.dot(x, W.T))(xv, Wv)
        assert np.allclose(looped, direct)
        T.dot(x, W.T)
        """,
        SVG,
        GRAPH,
    ),
    md(
        """
        ## Taps: looking further back

        `outputs_info=dict(initial=..., taps=[-2, -1])` gives the step the results of the
        two previous steps: here the Fibonacci numbers.
        """
    ),
    code(
        """
        n = T.iscalar("n")
        init = T.ivector("init")  # the two first values
        fib, _ = theano.scan(
            lambda f_tm2, f_tm1: f_tm2 + f_tm1,
            outputs_info=dict(initial=init, taps=[-2, -1]),
            n_steps=n,
        )
        fibonacci = function([init, n], fib)
        fibonacci(np.array([0, 1], dtype="int32"), 10)
        """
    ),
    md(
        """
        ## Inside the loop

        `%symgraph` (from `%load_ext labsym`) draws any expression or function; `pydotprint`
        with `scan_graphs=True` also draws the body of every scan.
        """
    ),
    code(
        """
        %load_ext labsym
        %symgraph fibonacci
        """,
        SVG,
    ),
    code(
        """
        from IPython.display import SVG

        SVG(theano.printing.pydotprint(fibonacci, format="svg", scan_graphs=True, return_image=True))
        """,
        SVG,
    ),
    md(
        """
        ## Gradients through scan

        `T.grad` goes through the loop (back-propagation through time): the gradient of
        $x^{k}$ computed by the power loop is $k x^{k-1}$.
        """
    ),
    code(
        """
        x = T.dscalar("x")
        powers, _ = theano.scan(
            lambda prior, x: prior * x, outputs_info=T.ones_like(x), non_sequences=x, n_steps=5
        )
        d = T.grad(powers[-1], x)
        print(function([x], d)(2.0))  # 5 * 2 ** 4 = 80
        """
    ),
]
