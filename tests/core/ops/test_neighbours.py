"""images2neibs / neibs2images against the loop Theano documents, with shapes and gradients."""

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.tensor.nnet.neighbours import Images2Neibs, images2neibs, neibs2images

images = T.dtensor4("images")


def reference(x, shape, step, mode):
    """The pseudo-code of Theano's docstring: rows (n, s, window row, window col), zero pad."""
    c, d = shape
    sx, sy = step
    h, w = x.shape[2:]
    shift = {
        "valid": (0, 0),
        "ignore_borders": (0, 0),
        "half": (c // 2, d // 2),
        "full": (c - 1, d - 1),
        "wrap_centered": (c // 2, d // 2),
    }[mode]
    if mode == "wrap_centered":
        grid = (-(-h // sx), -(-w // sy))
    else:
        span = {
            "valid": (h - c, w - d),
            "ignore_borders": (h - c, w - d),
            "half": (h - c % 2, w - d % 2),
            "full": (h + c - 2, w + d - 2),
        }[mode]
        grid = (1 + span[0] // sx, 1 + span[1] // sy)
    rows = []
    for n in range(x.shape[0]):
        for s in range(x.shape[1]):
            for a in range(grid[0]):
                for b in range(grid[1]):
                    row = []
                    for i in range(c):
                        for j in range(d):
                            r, q = a * sx + i - shift[0], b * sy + j - shift[1]
                            if mode == "wrap_centered":
                                r, q = r % h, q % w
                            inside = 0 <= r < h and 0 <= q < w
                            row.append(x[n, s, r, q] if inside else 0.0)
                    rows.append(row)
    return np.array(rows)


def test_theano_docstring_example():
    neibs = images2neibs(images, neib_shape=(5, 5))
    im_val = np.arange(100.0).reshape((1, 1, 10, 10))
    got = theano.function([images], neibs)(im_val)
    assert got.shape == (4, 25)
    np.testing.assert_array_equal(got[1, :5], [5.0, 6.0, 7.0, 8.0, 9.0])
    np.testing.assert_array_equal(got[2, :5], [50.0, 51.0, 52.0, 53.0, 54.0])
    back = theano.function([images], neibs2images(neibs, (5, 5), im_val.shape))(im_val)
    np.testing.assert_array_equal(back, im_val)


CASES = [
    ("valid", (2, 2), (1, 1), (2, 3, 5, 5)),
    ("valid", (2, 3), (2, 1), (1, 2, 6, 5)),
    ("ignore_borders", (3, 3), None, (2, 1, 7, 5)),
    ("wrap_centered", (3, 3), (1, 1), (1, 2, 4, 5)),
    ("wrap_centered", (3, 5), (2, 2), (1, 1, 5, 6)),
    ("half", (3, 3), (1, 1), (2, 2, 5, 4)),
    ("full", (2, 3), (1, 1), (1, 2, 4, 5)),
]


@pytest.mark.parametrize(("mode", "shape", "step", "ishape"), CASES)
def test_values_shapes_and_gradients(mode, shape, step, ishape):
    x = np.random.RandomState(0).rand(*ishape)
    out = images2neibs(images, shape, step, mode=mode)
    f = theano.function([images], [out, out.shape])
    got, got_shape = f(x)
    want = reference(x, shape, step or shape, mode)
    np.testing.assert_array_equal(got, want)
    assert tuple(got_shape) == want.shape
    theano.gradient.verify_grad(
        lambda t: images2neibs(t, shape, step, mode=mode), [x], rng=np.random.RandomState(1)
    )


def test_gradient_sums_overlapping_windows():
    g = T.grad(images2neibs(images, (2, 2), (1, 1)).sum(), images)
    got = theano.function([images], g)(np.zeros((1, 1, 3, 3)))
    np.testing.assert_array_equal(got[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_ignore_borders_neibs2images_zero_border():
    x = np.arange(35.0).reshape(1, 1, 5, 7)
    neibs = images2neibs(images, (2, 3), mode="ignore_borders")
    back = theano.function([images], neibs2images(neibs, (2, 3), x.shape, mode="ignore_borders"))
    want = np.zeros_like(x)
    want[..., :4, :6] = x[..., :4, :6]
    np.testing.assert_array_equal(back(x), want)


def test_errors_name_the_problem():
    with pytest.raises(NotImplementedError, match="Only modes valid, ignore_borders"):
        Images2Neibs("same")
    with pytest.raises(NotImplementedError, match="neibs2images do not support mode=half"):
        neibs2images(T.dmatrix(), (2, 2), (1, 1, 4, 4), mode="half")
    f = theano.function([images], images2neibs(images, (3, 3)))
    with pytest.raises(TypeError, match=r"neib_shape=3, neib_step=3 and image length 4 not"):
        f(np.zeros((1, 1, 4, 3)))
    wrap = theano.function([images], images2neibs(images, (2, 3), mode="wrap_centered"))
    with pytest.raises(TypeError, match="wrap_centered need patch with odd shapes"):
        wrap(np.zeros((1, 1, 4, 4)))
    assert str(Images2Neibs("half")) == "Images2Neibs{half}"
