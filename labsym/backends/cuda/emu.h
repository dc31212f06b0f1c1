/* CPU emulation of the CUDA kernel language, so labsym's kernel sources compile with g++.
 *
 * For tests only (labsym.backends.cuda.emulator): every block runs after the other, and the
 * threads of a block run one after another. A kernel that calls __syncthreads() runs each
 * thread as a coroutine (ucontext) that yields at the barrier: the scheduler resumes every
 * live thread once per round, so all threads reach a barrier before any passes it, which is
 * CUDA's rule. Other kernels run their threads as plain calls. Correct, not fast.
 */
#ifndef LS_EMU_H
#define LS_EMU_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <cstddef>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static /* one copy per block: blocks run one after another */

struct ls_uint3 {
    unsigned int x, y, z;
};
static ls_uint3 threadIdx, blockIdx, blockDim, gridDim;

static inline float __int_as_float(int v) { float f; memcpy(&f, &v, sizeof f); return f; }
static inline int __float_as_int(float v) { int i; memcpy(&i, &v, sizeof i); return i; }
static inline double __longlong_as_double(long long v) {
    double d; memcpy(&d, &v, sizeof d); return d;
}
static inline long long __double_as_longlong(double v) {
    long long i; memcpy(&i, &v, sizeof i); return i;
}
static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}

/* threads run one at a time, so a read-modify-write is atomic */
template <class T>
static inline T atomicAdd(T *address, T value) {
    T old = *address;
    *address = old + value;
    return old;
}

namespace ls_emu {

const size_t STACK_BYTES = 64 * 1024;

struct Scheduler {
    ucontext_t main;
    ucontext_t *threads = nullptr;
    char *stacks = nullptr;
    int *done = nullptr;
    unsigned capacity = 0;
    unsigned current = 0;
    bool coroutines = false;
    void (*fn)(void *) = nullptr;
    void *payload = nullptr;
};
static Scheduler sched;

static inline void set_thread(unsigned t) {
    threadIdx.x = t % blockDim.x;
    threadIdx.y = (t / blockDim.x) % blockDim.y;
    threadIdx.z = t / (blockDim.x * blockDim.y);
}

static void entry(int t) {
    sched.fn(sched.payload);
    sched.done[t] = 1; /* returning resumes sched.main (uc_link) */
}

static void reserve(unsigned n) {
    if (n <= sched.capacity) return;
    free(sched.threads);
    free(sched.stacks);
    free(sched.done);
    sched.threads = (ucontext_t *)calloc(n, sizeof(ucontext_t));
    sched.stacks = (char *)malloc((size_t)n * STACK_BYTES);
    sched.done = (int *)calloc(n, sizeof(int));
    if (!sched.threads || !sched.stacks || !sched.done) {
        fprintf(stderr, "labsym emu.h: out of memory for %u thread stacks\n", n);
        abort();
    }
    sched.capacity = n;
}

static void run_block_coroutines(unsigned n) {
    reserve(n);
    for (unsigned t = 0; t < n; t++) {
        ucontext_t *c = &sched.threads[t];
        getcontext(c);
        c->uc_stack.ss_sp = sched.stacks + (size_t)t * STACK_BYTES;
        c->uc_stack.ss_size = STACK_BYTES;
        c->uc_link = &sched.main;
        makecontext(c, (void (*)())entry, 1, (int)t);
        sched.done[t] = 0;
    }
    unsigned live = n;
    while (live) { /* one round: every live thread runs to its next barrier or its end */
        for (unsigned t = 0; t < n; t++) {
            if (sched.done[t]) continue;
            sched.current = t;
            set_thread(t);
            swapcontext(&sched.main, &sched.threads[t]);
            if (sched.done[t]) live--;
        }
    }
}

static void run(const unsigned *cfg, int coroutines, void (*fn)(void *), void *payload) {
    gridDim = {cfg[0], cfg[1], cfg[2]};
    blockDim = {cfg[3], cfg[4], cfg[5]};
    unsigned n = blockDim.x * blockDim.y * blockDim.z;
    sched.fn = fn;
    sched.payload = payload;
    sched.coroutines = coroutines != 0;
    for (unsigned z = 0; z < gridDim.z; z++)
        for (unsigned y = 0; y < gridDim.y; y++)
            for (unsigned x = 0; x < gridDim.x; x++) {
                blockIdx = {x, y, z};
                if (sched.coroutines) {
                    run_block_coroutines(n);
                } else {
                    for (unsigned t = 0; t < n; t++) {
                        set_thread(t);
                        fn(payload);
                    }
                }
            }
}

template <class F>
static void invoke(void *p) { (*static_cast<F *>(p))(); }

template <class... A, size_t... I>
static void call(void (*f)(A...), void **args, std::index_sequence<I...>) {
    f(*static_cast<typename std::remove_cv<A>::type *>(args[I])...);
}

/* Run kernel f on the grid and block in cfg[0..5]; args[i] points at argument i's value. */
template <class... A>
static void launch(void (*f)(A...), const unsigned *cfg, void **args, int coroutines) {
    auto body = [&]() { call(f, args, std::index_sequence_for<A...>{}); };
    run(cfg, coroutines, &invoke<decltype(body)>, &body);
}

} /* namespace ls_emu */

static inline void __syncthreads() {
    if (!ls_emu::sched.coroutines) {
        fprintf(stderr, "labsym emu.h: __syncthreads() in a kernel launched without coroutines\n");
        abort();
    }
    swapcontext(&ls_emu::sched.threads[ls_emu::sched.current], &ls_emu::sched.main);
}

/* emulator.py appends one LS_EMU_ENTRY(name) per kernel after the kernel sources */
#define LS_EMU_ENTRY(name)                                                                  \
    extern "C" void ls_emu_launch_##name(const unsigned *cfg, void **args, int coroutines) { \
        ls_emu::launch(name, cfg, args, coroutines);                                        \
    }

#endif
