/* Yields `arg` times, then exits: the partner of the context_switch benchmark. */
#include "user.h"

int main(u64 arg) {
    for (u64 i = 0; i < arg; i++) yield();
    return 0;
}
