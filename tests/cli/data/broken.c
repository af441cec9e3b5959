/* mewe-cc fixture: does not compile. */
int main(void)
{
    return this is not C;
}
