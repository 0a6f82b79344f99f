/*
 * aotvit launcher: picks the NativeAOT build that matches this CPU and execs it.
 *
 * A NativeAOT binary's instruction set is fixed when it is compiled (it cannot dispatch to AVX-512 at run
 * time, and the default x86-64-v2 target compiles the Vector256/512 kernels out), so aot-vit ships two:
 *   aotvit-x86-64-v4  AVX-512 (F, BW, CD, DQ, VL): Vector512 kernels
 *   aotvit-x86-64-v3  AVX2 + FMA: Vector256 kernels
 * This program asks CPUID (so it is also right under an emulator) and runs the best one that sits next to
 * it, passing all arguments through. AOTVIT_ISA=v3 or v4 overrides the choice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int has_v4(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}

static int has_v3(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("movbe");
}

int main(int argc, char **argv) {
    (void)argc;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 32);
    if (n <= 0) { fprintf(stderr, "aotvit: cannot locate myself: %s\n", strerror(errno)); return 3; }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    const char *forced = getenv("AOTVIT_ISA");
    const char *isa;
    if (forced && strcmp(forced, "v4") == 0) isa = "x86-64-v4";
    else if (forced && strcmp(forced, "v3") == 0) isa = "x86-64-v3";
    else if (forced && *forced) { fprintf(stderr, "aotvit: AOTVIT_ISA must be v3 or v4, not '%s'\n", forced); return 1; }
    else if (has_v4()) isa = "x86-64-v4";
    else if (has_v3()) isa = "x86-64-v3";
    else { fprintf(stderr, "aotvit: this CPU lacks AVX2/FMA (x86-64-v3); aot-vit needs at least that\n"); return 3; }
    snprintf(slash + 1, sizeof self - (size_t)(slash + 1 - self), "aotvit-%s", isa);
    if (getenv("AOTVIT_LAUNCHER_VERBOSE")) fprintf(stderr, "aotvit: running %s\n", self);
    execv(self, argv);
    fprintf(stderr, "aotvit: cannot run %s: %s\n", self, strerror(errno));
    return 3;
}
