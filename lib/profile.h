/* What the cost model needs of a profile besides the public queries. */
#ifndef MEWE_PROFILE_INTERNAL_H
#define MEWE_PROFILE_INTERNAL_H

#include "internal.h"

/* How many of the profile's functions `llvm` does not define. */
size_t mewe__profile_unmatched(const mewe_profile *p, LLVMModuleRef llvm);

#endif /* MEWE_PROFILE_INTERNAL_H */
