/* Status text, memory release and version queries. */
#include <stdlib.h>

#include "config.h"
#include "internal.h"

const char *mewe_status_str(int status)
{
    switch (status) {
    case MEWE_OK: return "success";
    case MEWE_EINVAL: return "invalid argument";
    case MEWE_ENOMEM: return "out of memory";
    case MEWE_EIO: return "input/output error";
    case MEWE_EPARSE: return "not valid LLVM bitcode or IR, or a malformed profile";
    case MEWE_EVERIFY: return "module fails verification";
    case MEWE_EVERSION: return "unknown options or descriptor version";
    case MEWE_ETARGET: return "unsupported target or code generation failure";
    case MEWE_ELINK: return "link failure";
    case MEWE_ETOOL: return "external tool missing or failed to run";
    case MEWE_ENOTFOUND: return "not found";
    case MEWE_EEXIST: return "already exists";
    case MEWE_EUSER: return "user callback failed";
    case MEWE_ESTATE: return "invalid state for this call";
    }
    return "unknown status";
}

void mewe_free(void *ptr)
{
    free(ptr);
}

const char *mewe_version(void)
{
    return MEWE_VERSION_STRING;
}

unsigned int mewe_version_number(void)
{
    return MEWE_VERSION_NUMBER;
}

const char *mewe_llvm_version(void)
{
    return MEWE_LLVM_VERSION;
}
