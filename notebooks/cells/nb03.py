"""03 gradients: T.grad, jacobian, hessian, Rop/Lop, with graphs of the derived expressions."""

from cells import GRAPH, HTML, SVG, code, md

CELLS = [
    md(
        """
        # 03 · Gradients

        labsym differentiates *symbolically*: `T.grad(cost, wrt)` returns a new expression
        graph for the derivative, built by walking the graph backwards and applying each
        operation's derivative rule (reverse-mode differentiation). That graph is then
        simplified by the same rewrites as any other, so you never write derivatives by hand.
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        from labsym import function, pp
        """
    ),
    md(
        """
        ## The derivative of $x^2$

        Before compilation the gradient graph is literal: it multiplies the incoming gradient
        (`fill(x ** 2, 1.0)`, "one, of the shape of the cost") by the derivative of the power.
        """
    ),
    code(
        """
        x = T.dscalar("x")
        y = x**2
        gy = T.grad(y, x)
        print(pp(gy))
        gy
        """,
        SVG,
        GRAPH,
    ),
    md(
        """
        Compiling rewrites it into what you would have written, `2 * x`: the optimized graph
        is the one in the report below.
        """
    ),
    code(
        """
        f = function([x], gy)
        print(pp(f.maker.fgraph.outputs[0]))
        print(f(4), f(94.2))
        f
        """,
        HTML,
        GRAPH,
    ),
    md(
        """
        ## The derivative of the logistic function

        $\\frac{ds(x)}{dx} = s(x)\\,(1 - s(x))$. `T.grad` needs a scalar cost, so we
        differentiate the sum of the elementwise logistic.
        """
    ),
    code(
        """
        x = T.dmatrix("x")
        s = T.sum(1 / (1 + T.exp(-x)))
        gs = T.grad(s, x)
        dlogistic = function([x], gs)
        values = np.array([[0.0, 1.0], [-1.0, -2.0]])
        sig = 1 / (1 + np.exp(-values))
        assert np.allclose(dlogistic(values), sig * (1 - sig))
        dlogistic(values)
        """
    ),
    md(
        """
        ## Several parameters at once

        Pass a list to `wrt` and get a list of gradients, one per parameter.
        """
    ),
    code(
        """
        x1, x2 = T.dscalars("x1", "x2")
        y = x1 * x2
        g = T.grad(y, [x1, x2])
        f_prime = function([x1, x2], g)
        f_prime(2, 4)
        """
    ),
    md(
        """
        ## The Jacobian

        The Jacobian of a vector-valued $y(x)$ holds $\\partial y_i / \\partial x_j$. It is
        the gradient of every $y_i$, computed by a `scan` loop over $i$ (notebook 04); the
        helper `theano.gradient.jacobian` builds that loop for you.
        """
    ),
    code(
        """
        x = T.dvector("x")
        y = x**2
        J, updates = theano.scan(
            lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x]
        )
        f = function([x], J, updates=updates)
        print(f([4, 4]))
        J2 = theano.gradient.jacobian(y, x)
        print(function([x], J2)([4, 4]))
        """
    ),
    md(
        """
        ## The Hessian

        The matrix of second derivatives of a scalar cost: the Jacobian of its gradient.
        For $\\sum_i x_i^3$ it is $\\mathrm{diag}(6x)$.
        """
    ),
    code(
        """
        cost = (x**3).sum()
        H = theano.gradient.hessian(cost, x)
        f = function([x], H)
        f([1.0, 2.0, 3.0])
        """
    ),
    md(
        """
        ## Jacobian times a vector: `Rop` and `Lop`

        Many algorithms need only the product of the Jacobian with a vector, which is much
        cheaper than the Jacobian itself. The **R-operator** computes
        $\\frac{\\partial f(x)}{\\partial x} v$ (forward mode), the **L-operator**
        $v \\frac{\\partial f(x)}{\\partial x}$ (reverse mode, what `grad` uses).
        """
    ),
    code(
        """
        W = T.dmatrix("W")
        V = T.dmatrix("V")
        x = T.dvector("x")
        y = T.dot(x, W)
        JV = T.Rop(y, W, V)
        f = function([W, V, x], JV)
        print(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]))

        v = T.dvector("v")
        VJ = T.Lop(y, W, v)
        f = function([v, x], VJ)
        print(f([2, 2], [0, 1]))
        """
    ),
    md(
        """
        The graph of the R-operator before compilation, and the function it compiles to:
        """
    ),
    code("JV", SVG, GRAPH),
    code("function([W, V, x], JV)", HTML, GRAPH),
    md(
        """
        ## Hessian times a vector

        With `grad` twice (or `Rop` of the gradient) you get $Hv$ without building $H$:
        """
    ),
    code(
        """
        x = T.dvector("x")
        v = T.dvector("v")
        y = T.sum(x**2)
        gy = T.grad(y, x)
        Hv = T.grad(T.sum(gy * v), x)
        f = function([x, v], Hv)
        print(f([4, 4], [2, 2]))
        Hv_rop = T.Rop(gy, x, v)
        print(function([x, v], Hv_rop)([4, 4], [2, 2]))
        """
    ),
]
