target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

@table = internal constant [4 x i32] [i32 3, i32 5, i32 7, i32 11]

define i32 @sum(ptr %p, i32 %n) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i.next, %loop ]
  %acc = phi i32 [ 0, %entry ], [ %acc.next, %loop ]
  %q = getelementptr inbounds i32, ptr %p, i32 %i
  %v = load i32, ptr %q, align 4
  %m = mul nsw i32 %v, %i
  %acc.next = add i32 %acc, %m
  %i.next = add nuw i32 %i, 1
  %done = icmp eq i32 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret i32 %acc.next
}

define i32 @pick(i32 %k) {
entry:
  switch i32 %k, label %other [
    i32 0, label %zero
    i32 1, label %one
  ]
zero:
  ret i32 17
one:
  %t = call i32 @sum(ptr @table, i32 4)
  ret i32 %t
other:
  %s = shl i32 %k, 2
  %x = xor i32 %s, 255
  %c = select i1 true, i32 %x, i32 %s
  ret i32 %c
}

define i64 @wide(i64 %a, i64 %b) {
  %x = xor i64 %a, %b
  %y = and i64 %a, %b
  %z = mul i64 %y, 3
  %w = sub i64 %x, %z
  %u = udiv i64 %w, 7
  ret i64 %u
}

define float @fp(float %a, float %b) {
  %x = fmul float %a, %b
  %y = fadd float %x, 1.0
  %z = fcmp olt float %y, %a
  %r = select i1 %z, float %y, float %a
  ret float %r
}
