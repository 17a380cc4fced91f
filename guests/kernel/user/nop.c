/* Exits at once: the child of the spawn_exit benchmark. */
#include "user.h"

int main(u64 arg) {
    (void)arg;
    return 0;
}
