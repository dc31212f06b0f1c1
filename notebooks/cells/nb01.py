"""01 basics: adding two numbers, adding two matrices, and the graph labsym draws for them."""

from cells import GRAPH, HTML, SVG, code, md

CELLS = [
    md(
        """
        # 01 · Basics: adding numbers and matrices

        **labsym** is Theano's symbolic tensor compiler, rebuilt for the notebook. You do not
        compute with numbers directly: you first *describe* a computation with symbolic
        variables, then ask labsym to *compile* that description into a fast Python function.

        Theano programs run unchanged with one different import, so this tutorial uses the
        names you would find in any Theano text: `theano`, `T`, `theano.function`.
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        """
    ),
    md(
        """
        ## Adding two numbers

        `T.dscalar` declares a symbolic *double-precision scalar* (`d` = float64). The
        optional argument is a name, used when the variable is printed or drawn.
        """
    ),
    code(
        """
        x = T.dscalar("x")
        y = T.dscalar("y")
        z = x + y
        type(x), x.type
        """
    ),
    md(
        """
        `z` is not a number: it is a *variable* standing for the result of adding `x` and `y`.
        Shown as the last expression of a cell, a variable draws its **expression graph**:
        as in Theano's drawings, variables are boxes (green for inputs, blue for outputs) and
        operations are ellipses (*Apply nodes*), with the input position on each edge. Hover
        over a node to see the line of code that created it.
        """
    ),
    code("z", SVG, GRAPH),
    md(
        """
        `theano.function` compiles the graph into a callable: the first argument lists the
        inputs, the second the output.
        """
    ),
    code(
        """
        f = theano.function([x, y], z)
        f(2, 3), f(16.3, 12.1)
        """
    ),
    md(
        """
        The result is a NumPy 0-d array. `theano.printing.pp` writes the expression back as
        text, and `z.eval({...})` is a shortcut that compiles and calls in one go (handy for
        trying things out, slower in a loop).
        """
    ),
    code(
        """
        print(theano.printing.pp(z))
        print(z.eval({x: 16.3, y: 12.1}))
        assert np.allclose(f(16.3, 12.1), 28.4)
        """
    ),
    md(
        """
        ## The compiled function

        A compiled function shows a **compile report**: its inputs and outputs with their
        types, how many nodes the graph had before and after labsym *rewrote* it, the time
        spent compiling, and the optimized graph it will actually run.
        """
    ),
    code("f", HTML, GRAPH),
    md(
        """
        ## Adding two matrices

        Exactly the same, with `T.dmatrix` (a 2-d float64 tensor of any shape). The
        function accepts nested lists or NumPy arrays.
        """
    ),
    code(
        """
        x = T.dmatrix("x")
        y = T.dmatrix("y")
        z = x + y
        f = theano.function([x, y], z)
        f([[1, 2], [3, 4]], [[10, 20], [30, 40]])
        """
    ),
    md(
        """
        Other types work the same way; the first letter gives the dtype (`b` int8, `w` int16,
        `i` int32, `l` int64, `f` float32, `d` float64, `c` complex64, `z` complex128) and the
        rest the number of dimensions (`scalar`, `vector`, `row`, `col`, `matrix`,
        `tensor3`, `tensor4`). Elementwise product and matrix product are different ops:
        """
    ),
    code(
        """
        a = T.matrix("a")
        b = T.matrix("b")
        elementwise = theano.function([a, b], a * b)
        product = theano.function([a, b], T.dot(a, b))
        A = [[1, 2], [3, 4]]
        B = [[2, 4], [6, 8]]
        C = [[1, 2], [3, 4], [5, 6]]
        print(elementwise(A, B))
        print(product(C, B))
        """
    ),
    md(
        """
        ## Drawing a graph as Theano did: `pydotprint`

        Theano users drew graphs with `theano.printing.pydotprint`; it works here too, and
        needs no system Graphviz (the `jupyter` extra installs a pure-Python `dot`).
        `return_image=True` returns the picture instead of writing a file.
        """
    ),
    code(
        """
        from IPython.display import SVG

        SVG(theano.printing.pydotprint(f, format="svg", return_image=True))
        """,
        SVG,
    ),
    md(
        """
        ## Exercise

        Build a function computing `a ** 2 + b ** 2 + 2 * a * b` for two vectors `a` and `b`,
        and look at its graph before and after compilation. Which nodes did labsym fuse?
        """
    ),
    code(
        """
        a = T.vector("a")
        b = T.vector("b")
        out = a**2 + b**2 + 2 * a * b
        f = theano.function([a, b], out)
        print(f([0, 1, 2], [4, 5, 6]))
        out
        """,
        SVG,
    ),
]
