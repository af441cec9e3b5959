/* CLI fixture: compiles, but wasm-ld cannot link it: the function is defined nowhere. */
int mewe_cli_missing_function(int x);

int main(void)
{
    return mewe_cli_missing_function(3);
}
