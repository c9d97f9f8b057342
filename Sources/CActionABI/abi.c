// The ABI is header-only; this file exists so the target has a translation unit.
#include "zumik_action_abi.h"
