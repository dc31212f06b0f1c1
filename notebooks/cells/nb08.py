"""08 a custom Op: the tutorial's DoubleOp (perform, infer_shape, grad, R_op), tested."""

from cells import GRAPH, HTML, SVG, code, md

CELLS = [
    md(
        """
        # 08 · Writing your own Op

        Every operation in a graph is an **Op** applied to variables. When no existing op does what
        you need, you write one: a Python class that says what its outputs are
        (`make_node`), how to compute them (`perform`), and optionally their shapes
        (`infer_shape`), its gradient (`grad`) and its R-operator (`R_op`). This is the
        `DoubleOp` of Theano's "Creating a new Op" tutorial, unchanged.
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        """
    ),
    code(
        """
        class DoubleOp(theano.Op):
            __props__ = ()

            def make_node(self, x):
                x = theano.tensor.as_tensor_variable(x)
                # Note: using x_.type() is dangerous, as it copies x's broadcasting behaviour
                return theano.Apply(self, [x], [x.type()])

            def perform(self, node, inputs, output_storage):
                x = inputs[0]
                z = output_storage[0]
                z[0] = x * 2

            def infer_shape(self, node, i0_shapes):
                return i0_shapes

            def grad(self, inputs, output_grads):
                return [output_grads[0] * 2]

            def R_op(self, inputs, eval_points):
                # R_op can receive None as eval_points.
                # That means there is no differentiable path through that input.
                # If this implies that you cannot compute some outputs,
                # return None for those.
                if eval_points[0] is None:
                    return eval_points
                return self.grad(inputs, eval_points)
        """
    ),
    md(
        """
        `__props__ = ()` says that all `DoubleOp` instances are equal (no parameters), so
        the merge rewrite may treat two applications to the same input as one.
        """
    ),
    code(
        """
        doubleOp = DoubleOp()
        x = theano.tensor.matrix()
        f = theano.function([x], doubleOp(x))
        inp = np.random.rand(5, 4)
        out = f(inp)
        assert np.allclose(inp * 2, out)
        print(inp)
        print(out)
        """
    ),
    md(
        """
        The op appears in graphs under its class name, like any built-in op:
        """
    ),
    code(
        """
        x = T.dmatrix("x")
        y = DoubleOp()(x) + 1
        y
        """,
        SVG,
        GRAPH,
    ),
    code("theano.function([x], y)", HTML, GRAPH),
    md(
        """
        ## Testing the gradient

        `verify_grad` compares the symbolic gradient with finite differences at random
        points; it raises if they disagree.
        """
    ),
    code(
        """
        from labsym.gradient import verify_grad

        rng = np.random.RandomState(42)
        verify_grad(DoubleOp(), [rng.rand(5, 7)], rng=rng)
        print("gradient verified")
        """
    ),
    md(
        """
        ## The R-operator and the shape

        `T.Rop` uses `R_op`; `infer_shape` lets labsym compute the output's shape without
        running `perform` (the shape graph below contains no `DoubleOp`).
        """
    ),
    code(
        """
        x, v = T.dvectors("x", "v")
        jv = theano.Rop(DoubleOp()(x), x, v)
        f = theano.function([x, v], jv, on_unused_input="ignore")  # R_op does not read x
        print(f(np.ones(3), np.arange(3.0)))

        shape_fn = theano.function([x], DoubleOp()(x).shape)
        print(shape_fn(np.ones(7)))
        theano.printing.debugprint(shape_fn)
        """
    ),
    md(
        """
        ## A quicker way: `as_op`

        For an op with fixed input and output types and no gradient, the `as_op` decorator
        turns a NumPy function into an op in three lines.
        """
    ),
    code(
        """
        from labsym.compile.ops import as_op


        @as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])
        def numpy_dot_self(a):
            return np.dot(a, a.T)


        m = T.dmatrix("m")
        theano.function([m], numpy_dot_self(m))(np.arange(6.0).reshape(2, 3))
        """
    ),
]
