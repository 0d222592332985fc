/* The narrow C interface of libesper_spm, our wrapper around Debian's libsentencepiece.
 *
 * Why a wrapper loaded with dlopen(RTLD_LOCAL | RTLD_DEEPBIND): Debian's libsentencepiece.so.0
 * exports its bundled protobuf-lite 3.14 while LibTorch links the system protobuf 3.21; a process
 * linking both directly crashes before main() (sentencepiece#723). Loaded privately with deep
 * binding, the wrapper resolves protobuf to sentencepiece's own copy and nothing leaks out. */
#ifndef ESPER_SPM_SHIM_API_H
#define ESPER_SPM_SHIM_API_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESPER_SPM_API_VERSION 1

typedef struct esper_spm esper_spm;

int esper_spm_api_version(void);
/* Returns NULL on failure with a message in err. */
esper_spm* esper_spm_load(const char* model_path, char* err, size_t err_len);
void esper_spm_free(esper_spm* model);
/* Encodes UTF-8 text; returns the number of ids (writing at most cap), or -1 on error. */
int esper_spm_encode(const esper_spm* model, const char* text, size_t len, int* ids, int cap);
/* Decodes ids to UTF-8; returns the byte length (writing at most cap), or -1 on error. */
int esper_spm_decode(const esper_spm* model, const int* ids, int n, char* out, int cap);
int esper_spm_piece_count(const esper_spm* model);
int esper_spm_piece_to_id(const esper_spm* model, const char* piece);
/* Which of unk/bos/eos/pad: 0/1/2/3; -1 when the model has none. */
int esper_spm_special_id(const esper_spm* model, int which);
/* Trains a model; args use sentencepiece's "--key=value" syntax. Returns 0 on success. */
int esper_spm_train(const char* args, char* err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
