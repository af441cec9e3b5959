/* lib/util: the growable array, the JSON writer and the string buffer under it. */
#include <math.h>
#include <stdint.h>

#include "util/array.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "test-util.h"

START_TEST(array_grows_and_keeps_its_elements)
{
    int *items = NULL;
    size_t count = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        ck_assert(MEWE__ARRAY_PUSH(items, count, cap, i * 3));
        ck_assert_uint_ge(cap, count);
    }
    ck_assert_uint_eq(count, 1000);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(items[i], i * 3);
    /* Enough room already: nothing moves. */
    int *before = items;
    size_t cap_before = cap;
    ck_assert(mewe__array_reserve(&items, &cap, cap_before, sizeof *items));
    ck_assert_ptr_eq(items, before);
    ck_assert_uint_eq(cap, cap_before);
    free(items);
}
END_TEST

START_TEST(array_refuses_sizes_that_overflow)
{
    double *items = NULL;
    size_t cap = 0;
    ck_assert(mewe__array_reserve(&items, &cap, 3, sizeof *items));
    double *kept = items;
    items[2] = 2.5;
    /* Doubling past SIZE_MAX, and n * size past SIZE_MAX: refused, array untouched. */
    ck_assert(!mewe__array_reserve(&items, &cap, SIZE_MAX, sizeof *items));
    ck_assert(!mewe__array_reserve(&items, &cap, SIZE_MAX / 4, sizeof *items));
    ck_assert_ptr_eq(items, kept);
    ck_assert_uint_eq(cap, 8);
    ck_assert(items[2] == 2.5);
    free(items);
}
END_TEST

static char *json_of(mewe__json *j)
{
    size_t len;
    char *text = mewe__json_take(j, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, strlen(text));
    return text;
}

START_TEST(json_layout)
{
    mewe__json j = {0};
    mewe__json_object(&j, NULL, true);
    mewe__json_string(&j, "name", "m");
    mewe__json_array(&j, "list", true);
    mewe__json_object(&j, NULL, false);
    mewe__json_uint(&j, "a", 1);
    mewe__json_int(&j, "b", -2);
    mewe__json_bool(&j, "c", false);
    mewe__json_end(&j);
    mewe__json_object(&j, NULL, false);
    mewe__json_end(&j);
    mewe__json_end(&j);
    mewe__json_array(&j, "none", true);
    mewe__json_end(&j);
    mewe__json_object(&j, "flat", false);
    mewe__json_fixed(&j, "x", 0.5, 2);
    mewe__json_real(&j, "y", 1.1, 4);
    mewe__json_array(&j, "z", false);
    mewe__json_uint(&j, NULL, 7);
    mewe__json_uint(&j, NULL, 8);
    mewe__json_end(&j);
    mewe__json_end(&j);
    mewe__json_end(&j);
    char *text = json_of(&j);
    ck_assert_str_eq(text, "{\n"
                           "  \"name\": \"m\",\n"
                           "  \"list\": [\n"
                           "    {\"a\": 1, \"b\": -2, \"c\": false},\n"
                           "    {}\n"
                           "  ],\n"
                           "  \"none\": [],\n"
                           "  \"flat\": {\"x\": 0.50, \"y\": 1.1, \"z\": [7, 8]}\n"
                           "}\n");
    free(text);
}
END_TEST

START_TEST(json_escapes_any_bytes)
{
    static const char raw[] = "q\"b\\n\n\x01 \xc3\xa9 \xff \xe2\x82 \xed\xa0\x80 z";
    mewe__json j = {0};
    mewe__json_array(&j, NULL, false);
    mewe__json_string_n(&j, NULL, raw, sizeof raw - 1);
    mewe__json_string_n(&j, NULL, "a\0b", 3);
    mewe__json_string(&j, NULL, "");
    mewe__json_end(&j);
    char *text = json_of(&j);
    /* Valid UTF-8 (é) stays; each byte of a broken sequence is the code point of its value,
     * so that two different names never read the same. */
    ck_assert_str_eq(text, "[\"q\\\"b\\\\n\\u000a\\u0001 \xc3\xa9 \\u00ff \\u00e2\\u0082 "
                           "\\u00ed\\u00a0\\u0080 z\", \"a\\u0000b\", \"\"]\n");
    free(text);
}
END_TEST

START_TEST(json_numbers_stay_json)
{
    mewe__json j = {0};
    mewe__json_object(&j, NULL, false);
    mewe__json_fixed(&j, "nan", NAN, 2);
    mewe__json_fixed(&j, "inf", INFINITY, 0);
    mewe__json_real(&j, "minf", -INFINITY, 4);
    mewe__json_uint(&j, "big", UINT64_MAX);
    mewe__json_end(&j);
    char *text = json_of(&j);
    ck_assert_str_eq(text, "{\"nan\": null, \"inf\": null, \"minf\": null, "
                           "\"big\": 18446744073709551615}\n");
    free(text);
}
END_TEST

START_TEST(json_refuses_what_it_cannot_write)
{
    /* An unclosed container, a close too many, nesting past the limit: NULL, not text
     * that a reader would choke on. */
    mewe__json j = {0};
    mewe__json_object(&j, NULL, false);
    ck_assert_ptr_null(mewe__json_take(&j, NULL));
    j = (mewe__json){0};
    mewe__json_array(&j, NULL, false);
    mewe__json_end(&j);
    mewe__json_end(&j);
    ck_assert_ptr_null(mewe__json_take(&j, NULL));
    j = (mewe__json){0};
    for (int i = 0; i < MEWE__JSON_DEPTH; i++)
        mewe__json_array(&j, NULL, false);
    for (int i = 0; i < MEWE__JSON_DEPTH; i++)
        mewe__json_end(&j);
    ck_assert_ptr_null(mewe__json_take(&j, NULL));
}
END_TEST

START_TEST(strbuf_appends_bytes)
{
    mewe__strbuf s = {0};
    mewe__strbuf_append(&s, "a\0b", 3);
    for (int i = 0; i < 300; i++)
        mewe__strbuf_add(&s, "%d,", i % 10);
    size_t len;
    char *text = mewe__strbuf_take(&s, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, 3 + 600);
    ck_assert(memcmp(text, "a\0b0,1,2,", 9) == 0);
    ck_assert_int_eq(text[len], '\0');
    free(text);
    /* Taken, the buffer starts again empty. */
    mewe__strbuf_add(&s, "x");
    text = mewe__strbuf_take(&s, &len);
    ck_assert_str_eq(text, "x");
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("utilities");
    TCase *tc = test_case("core");
    tcase_add_test(tc, array_grows_and_keeps_its_elements);
    tcase_add_test(tc, array_refuses_sizes_that_overflow);
    tcase_add_test(tc, json_layout);
    tcase_add_test(tc, json_escapes_any_bytes);
    tcase_add_test(tc, json_numbers_stay_json);
    tcase_add_test(tc, json_refuses_what_it_cannot_write);
    tcase_add_test(tc, strbuf_appends_bytes);
    suite_add_tcase(s, tc);
    return test_run(s);
}
