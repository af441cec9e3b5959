; The helper functions of sample.ll alone, for link tests (see main.ll).
target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

define i32 @mix(i32 %a, i32 %b) {
  %1 = add i32 %a, %b
  %2 = xor i32 %1, %b
  %3 = sub i32 %2, %a
  %4 = or i32 %3, 1
  %5 = and i32 %4, %1
  ret i32 %5
}

define i32 @scale(i32 %x) {
  %1 = mul i32 %x, 3
  %2 = add i32 %1, 7
  %3 = xor i32 %2, 5
  ret i32 %3
}

define i32 @tiny(i32 %x) {
  ret i32 %x
}
