; sample.ll with another, equivalent body of scale (x*3 as x+x+x), for add_variants.
target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

@.fmt = private unnamed_addr constant [17 x i8] c"mix=%d scale=%d\0A\00", align 1

declare i32 @printf(ptr, ...)

define i32 @mix(i32 %a, i32 %b) {
  %1 = add i32 %a, %b
  %2 = xor i32 %1, %b
  %3 = sub i32 %2, %a
  %4 = or i32 %3, 1
  %5 = and i32 %4, %1
  ret i32 %5
}

define i32 @scale(i32 %x) {
  %t = add i32 %x, %x
  %1 = add i32 %t, %x
  %2 = add i32 %1, 7
  %3 = xor i32 %2, 5
  ret i32 %3
}

define i32 @tiny(i32 %x) {
  ret i32 %x
}

define i32 @main() {
  %1 = call i32 @mix(i32 12, i32 30)
  %2 = call i32 @scale(i32 %1)
  %3 = call i32 @tiny(i32 %2)
  %4 = call i32 (ptr, ...) @printf(ptr @.fmt, i32 %1, i32 %3)
  ret i32 0
}
