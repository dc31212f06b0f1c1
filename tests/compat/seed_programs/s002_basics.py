import theano
import theano.tensor as T
x = theano.tensor.scalar()
y = x ** 2
f = theano.function([x], y)
print(f(-2))
a = theano.tensor.scalar()
b = theano.tensor.matrix()
c = theano.tensor.matrix('ha ha ha')
print(a)
print(b)
print(c)
x1 = T.scalar()
x2 = T.scalar()
y1 = x1 * x2
y2 = x1 ** 2 + x2 ** 0.5
f = theano.function([x1, x2],[y1, y2])
z = f(2,4)
print(z)
a = T.matrix()
b = T.matrix()
c = a * b
d = T.dot( a , b )
F1 = theano.function([a, b],c)
F2 = theano.function([a, b],d)
A = [[1, 2],[3, 4]]
B = [[2, 4],[6, 8]]
C = [[1, 2],[3, 4],[5, 6]]
print(F1( A , B ))
print(F2( C , B ))
x = T.scalar('x')
y = x ** 2
g = T.grad( y , x )
f = theano.function( [x] , y )
f_prime = theano.function( [x] , g )
print(f(-2))
print(f_prime(-2))
x1 = T.scalar()
x2 = T.scalar()
y = x1 * x2
g = T.grad(y, [x1, x2])
f = theano.function([x1, x2], y)
f_prime = theano.function([x1, x2], g)
print(f(2, 4))
print(f_prime(2, 4))
A = T.matrix()
B = T.matrix()
C = A * B
D = T.sum(C)
g = T.grad( D , A )
y_prime = theano.function( [A, B], g )
A = [[1, 2], [3, 4]]
B = [[2, 4], [6, 8]]
print(y_prime(A,B))
