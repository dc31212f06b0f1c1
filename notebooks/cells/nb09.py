"""09 a small convnet: synthetic digits, %%symfunc for the training step, the TrainingMonitor."""

from cells import GRAPH, HTML, code, md

CELLS = [
    md(
        """
        # 09 · A small convnet on synthetic digits

        Everything together: a convolutional network (convolution → ReLU → max-pooling →
        softmax classifier) trained by minibatch gradient descent on little 8×8 images of
        digits drawn here, compiled with the `%%symfunc` cell magic and watched with the
        training monitor. It trains in a few seconds on a laptop CPU.
        """
    ),
    code(
        """
        import numpy as np

        import labsym as theano
        import labsym.tensor as T
        from labsym.magics import TrainingMonitor
        from labsym.tensor.nnet import conv2d
        from labsym.tensor.signal.pool import pool_2d

        %load_ext labsym
        """
    ),
    md(
        """
        ## The data: digits in a 3×5 pixel font

        Each digit is placed at a random position in an 8×8 image, with some pixels flipped
        by noise, so the network has to find the *shape* wherever it is: exactly what
        convolutions are good at.
        """
    ),
    code(
        """
        # the digits 0 to 9, each 5 rows of 3 pixels written one row after the other
        FONT = "111101101101111 010110010010111 111001111100111 111001111001111 101101111001001 "
        FONT += "111100111001111 111100111101111 111001010010010 111101111101111 111101111001111"
        GLYPHS = np.array([[int(c) for c in bits] for bits in FONT.split()], dtype="float64")
        GLYPHS = GLYPHS.reshape(10, 5, 3)


        def make_digits(n, rng):
            \"\"\"n images (n, 1, 8, 8) of random digits at random places with 2% noise, and labels.\"\"\"
            labels = rng.randint(0, 10, size=n).astype("int32")
            images = np.zeros((n, 1, 8, 8))
            for i, label in enumerate(labels):
                top, left = rng.randint(0, 4), rng.randint(0, 6)
                images[i, 0, top : top + 5, left : left + 3] = GLYPHS[label]
            flips = rng.rand(*images.shape) < 0.02
            return np.abs(images - flips), labels


        rng = np.random.RandomState(1234)
        train_x, train_y = make_digits(2000, rng)
        test_x, test_y = make_digits(500, rng)
        print(train_x.shape, train_y[:10])
        print(train_x[0, 0].astype(int))
        """
    ),
    md(
        """
        ## The parameters

        Shared variables, so that the training function can update them between calls:
        16 filters of 3×3, then a dense layer from the pooled 16×3×3 maps to 10 classes.
        """
    ),
    code(
        """
        n_filters = 16
        W_conv = theano.shared(rng.randn(n_filters, 1, 3, 3) * 0.5, name="W_conv")
        b_conv = theano.shared(np.zeros(n_filters), name="b_conv")
        W_out = theano.shared(rng.randn(n_filters * 3 * 3, 10) * 0.1, name="W_out")
        b_out = theano.shared(np.zeros(10), name="b_out")
        params = [W_conv, b_conv, W_out, b_out]
        """
    ),
    md(
        """
        ## The training step, as a `%%symfunc` cell

        The first line declares the function: its name, its typed inputs, the outputs. The
        `[50, 1, 8, 8]` after a type gives the input a *test value* of that shape, so a shape
        mistake in the cell is reported at its line (notebook 06). `lr` has a default. The
        body is ordinary Python building expressions; the `updates` it defines are used.
        The cell shows the compile report of the function it binds to `train`.
        """
    ),
    code(
        """
        %%symfunc train(X: dtensor4[50, 1, 8, 8], y: ivector[50], lr: dscalar = 0.1) -> cost, accuracy
        conv = T.nnet.relu(conv2d(X, W_conv) + b_conv.dimshuffle("x", 0, "x", "x"))  # (50, 16, 6, 6)
        pooled = pool_2d(conv, (2, 2), ignore_border=True)  # (50, 16, 3, 3)
        p_y = T.nnet.softmax(T.dot(pooled.flatten(2), W_out) + b_out)
        cost = T.nnet.categorical_crossentropy(p_y, y).mean()
        accuracy = T.mean(T.eq(T.argmax(p_y, axis=1), y))
        updates = [(p, p - lr * g) for p, g in zip(params, T.grad(cost, params))]
        """,
        HTML,
        GRAPH,
    ),
    md(
        """
        A second function, without updates, measures the accuracy on the test images.
        `--show none` compiles silently.
        """
    ),
    code(
        """
        %%symfunc evaluate(X: dtensor4, y: ivector) -> accuracy --show none
        conv = T.nnet.relu(conv2d(X, W_conv) + b_conv.dimshuffle("x", 0, "x", "x"))
        pooled = pool_2d(conv, (2, 2), ignore_border=True)
        p_y = T.nnet.softmax(T.dot(pooled.flatten(2), W_out) + b_out)
        accuracy = T.mean(T.eq(T.argmax(p_y, axis=1), y))
        """
    ),
    code(
        """
        print("test accuracy before training:", evaluate(test_x, test_y))
        """
    ),
    md(
        """
        ## Training, watched

        Minibatches of 50, a few epochs; every 10 steps the monitor redraws the cost and
        accuracy curves.
        """
    ),
    code(
        """
        batch, epochs = 50, 30
        steps_per_epoch = len(train_x) // batch
        with TrainingMonitor(total=epochs * steps_per_epoch, title="convnet", every=10) as monitor:
            for _ in range(epochs):
                order = rng.permutation(len(train_x))
                for i in range(steps_per_epoch):
                    idx = order[i * batch : (i + 1) * batch]
                    cost, acc = train(train_x[idx], train_y[idx], 0.2)
                    monitor.update(cost=cost, accuracy=acc)
                monitor.update(monitor.step, test_accuracy=evaluate(test_x, test_y))
        """,
        HTML,
    ),
    code(
        """
        final = evaluate(test_x, test_y)
        print("test accuracy after training:", final)
        assert final > 0.85
        """
    ),
    md(
        """
        ## What did the filters learn?

        The first two of the 16 filters, each a 3×3 patch of weights (positive = bright):
        """
    ),
    code(
        """
        np.set_printoptions(precision=2, suppress=True)
        W_conv.get_value()[:2, 0]
        """
    ),
]
