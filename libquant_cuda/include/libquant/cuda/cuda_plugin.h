/* C entry points of the libquant_cuda plugin (the only symbols that cross a
 * dlopen boundary). All return 0 on success, a negative CUDA-derived code on
 * failure. */
#ifndef LIBQUANT_CUDA_PLUGIN_H
#define LIBQUANT_CUDA_PLUGIN_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define LIBQUANT_CUDA_API_VERSION 1

__attribute__((visibility("default"))) int libquant_cuda_api_version(void);
/* Number of visible CUDA devices (0 when none or when the driver is missing). */
__attribute__((visibility("default"))) int libquant_cuda_device_count(void);
/* Name of device `index` into buf (NUL-terminated). */
__attribute__((visibility("default"))) int libquant_cuda_device_name(int index, char* buf, size_t len);
/* f32 -> f16 (round to nearest even) of n host values through the GPU. */
__attribute__((visibility("default"))) int libquant_cuda_f32_to_f16(const float* src, uint16_t* dst, size_t n);

#ifdef __cplusplus
}
#endif
#endif
