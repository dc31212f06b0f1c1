"""C backend (planned): C source rendered from the scalar table, built with cffi.
Backends may import core, never compile/, viz/ or magics/."""
