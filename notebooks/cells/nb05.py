"""05 conditions: ifelse (lazy) against switch (elementwise, both branches), with timings."""

from cells import GRAPH, SVG, code, md

CELLS = [
    md(
        """
        # 05 · Conditions: `ifelse` and `switch`

        Two operations choose between values:

        * `T.switch(cond, a, b)` is **elementwise** (like `numpy.where`): `cond` may be a
          tensor, and both `a` and `b` are always computed.
        * `ifelse(cond, a, b)` takes a **scalar** condition and is **lazy**: only the branch
          that is taken is computed.
        """
    ),
    code(
        """
        import time

        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        from labsym.ifelse import ifelse
        """
    ),
    md(
        """
        ## The same choice, written both ways

        Each branch is the mean of a large matrix, so computing a branch costs time.
        """
    ),
    code(
        """
        a, b = T.scalars("a", "b")
        x, y = T.matrices("x", "y")

        z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
        z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))

        f_switch = theano.function([a, b, x, y], z_switch, mode=theano.Mode(linker="vm"))
        f_lazyifelse = theano.function([a, b, x, y], z_lazy, mode=theano.Mode(linker="vm"))
        """
    ),
    md(
        """
        ## Laziness, measured

        With the condition true, `ifelse` computes only `mean(x)`, while `switch` computes
        both means and then picks one: it takes about twice as long.
        """
    ),
    code(
        """
        val1, val2 = 0.0, 1.0
        big_mat1 = np.ones((2000, 1000), dtype=theano.config.floatX)
        big_mat2 = np.ones((2000, 1000), dtype=theano.config.floatX)
        n_times = 20


        def best_time(fn):
            \"\"\"The best of three timings of n_times calls (the least disturbed by the machine).\"\"\"
            times = []
            for _ in range(3):
                tic = time.perf_counter()
                for _ in range(n_times):
                    fn(val1, val2, big_mat1, big_mat2)
                times.append(time.perf_counter() - tic)
            return min(times)


        t_switch = best_time(f_switch)
        t_lazy = best_time(f_lazyifelse)
        print(f"time spent evaluating both values {t_switch:.4f} sec")
        print(f"time spent evaluating one value   {t_lazy:.4f} sec")
        print(f"switch / ifelse: {t_switch / t_lazy:.1f}x")
        """
    ),
    md(
        """
        Laziness is visible without a clock, too: a branch that would fail is never run by
        `ifelse` when it is not taken, but always run by `switch`.
        """
    ),
    code(
        """
        v = T.dvector("v")
        i = T.iscalar("i")
        safe = ifelse(T.lt(i, v.shape[0]), v[i], np.float64(-1))
        f_safe = theano.function([v, i], safe)
        print(f_safe([1.0, 2.0, 3.0], 1), f_safe([1.0, 2.0, 3.0], 7))  # no IndexError for 7

        eager = T.switch(T.lt(i, v.shape[0]), v[i], np.float64(-1))
        f_eager = theano.function([v, i], eager)
        try:
            f_eager([1.0, 2.0, 3.0], 7)
        except IndexError as err:
            print("switch ran the branch anyway:", type(err).__name__)
        """
    ),
    md(
        """
        ## `switch` is elementwise

        Its condition can be a whole tensor, choosing per element:
        """
    ),
    code(
        """
        m = T.dmatrix("m")
        relu_like = T.switch(m > 0, m, 0.1 * m)
        theano.function([m], relu_like)([[-1.0, 2.0], [3.0, -4.0]])
        """
    ),
    md(
        """
        ## The graphs

        `ifelse` is one `IfElse` node with the condition as its first input; `switch` is an
        elementwise node whose two branches are both inputs.
        """
    ),
    code("z_lazy", SVG, GRAPH),
    code("z_switch", SVG, GRAPH),
]
