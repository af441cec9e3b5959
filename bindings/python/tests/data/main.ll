; The main function of sample.ll alone, for link tests (see helpers.ll).
target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

@.fmt = private unnamed_addr constant [17 x i8] c"mix=%d scale=%d\0A\00", align 1

declare i32 @printf(ptr, ...)
declare i32 @mix(i32, i32)
declare i32 @scale(i32)
declare i32 @tiny(i32)

define i32 @main() {
  %1 = call i32 @mix(i32 12, i32 30)
  %2 = call i32 @scale(i32 %1)
  %3 = call i32 @tiny(i32 %2)
  %4 = call i32 (ptr, ...) @printf(ptr @.fmt, i32 %1, i32 %3)
  ret i32 0
}
