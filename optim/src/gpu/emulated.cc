// The GPU kernels compiled for the host (feature `gpu-emulator`, see emu.h).
#define ADAMP_EMULATE 1
#include "kernels.cu"
