target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

@fp = global ptr @twice

define internal i32 @twice(i32 %x) {
  %a = add i32 %x, %x
  %b = or i32 %a, 1
  %c = and i32 %b, 65535
  ret i32 %c
}

define i32 @apply(i32 %x) {
  %f = load ptr, ptr @fp
  %r = call i32 %f(i32 %x)
  %s = call i32 @twice(i32 %r)
  %t = add i32 %s, %r
  ret i32 %t
}

define i32 @main(i32 %argc, ptr %argv) {
  %r = call i32 @apply(i32 %argc)
  %m = urem i32 %r, 3
  ret i32 %m
}
