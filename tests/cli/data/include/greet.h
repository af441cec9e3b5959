/* mewe-cc fixture header, found only through -I. */
const char *greet_target(void);
int util_sum(int n);
