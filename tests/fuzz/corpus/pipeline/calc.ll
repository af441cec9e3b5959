; ModuleID = '../../../cli/data/calc.c'
source_filename = "../../../cli/data/calc.c"
target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

@.str = private unnamed_addr constant [14 x i8] c"calc: %d %ld\0A\00", align 1

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none)
define hidden i32 @calc_mix(i32 noundef %0, i32 noundef %1) local_unnamed_addr #0 {
  %3 = xor i32 %1, %0
  %4 = and i32 %1, %0
  %5 = mul nsw i32 %4, 3
  %6 = or i32 %1, 5
  %7 = sub i32 %3, %6
  %8 = add i32 %7, %5
  ret i32 %8
}

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none)
define hidden range(i32 -2147483648, 2147483637) i32 @calc_poly(i32 noundef %0) local_unnamed_addr #0 {
  %2 = mul i32 %0, 7
  %3 = add i32 %2, 5
  %4 = mul i32 %3, %0
  %5 = add i32 %4, -11
  ret i32 %5
}

; Function Attrs: nofree nounwind
define hidden noundef i32 @__main_argc_argv(i32 noundef %0, ptr nocapture noundef readonly %1) local_unnamed_addr #1 {
  %3 = icmp sgt i32 %0, 1
  br i1 %3, label %4, label %8

4:                                                ; preds = %2
  %5 = getelementptr inbounds i8, ptr %1, i32 4
  %6 = load ptr, ptr %5, align 4, !tbaa !2
  %7 = tail call i32 @atoi(ptr nocapture noundef %6)
  br label %8

8:                                                ; preds = %2, %4
  %9 = phi i32 [ %7, %4 ], [ 10, %2 ]
  %10 = icmp sgt i32 %9, 0
  br i1 %10, label %14, label %11

11:                                               ; preds = %14, %8
  %12 = phi i32 [ 0, %8 ], [ %29, %14 ]
  %13 = tail call i32 (ptr, ...) @printf(ptr noundef nonnull dereferenceable(1) @.str, i32 noundef %9, i32 noundef %12)
  ret i32 0

14:                                               ; preds = %8, %14
  %15 = phi i32 [ %30, %14 ], [ 0, %8 ]
  %16 = phi i32 [ %29, %14 ], [ 0, %8 ]
  %17 = sub nsw i32 %9, %15
  %18 = xor i32 %17, %15
  %19 = and i32 %17, %15
  %20 = mul nuw nsw i32 %19, 3
  %21 = or i32 %17, 5
  %22 = mul i32 %15, 7
  %23 = add i32 %22, 5
  %24 = mul i32 %23, %15
  %25 = add i32 %16, -11
  %26 = sub i32 %25, %21
  %27 = add i32 %26, %18
  %28 = add i32 %27, %20
  %29 = add i32 %28, %24
  %30 = add nuw nsw i32 %15, 1
  %31 = icmp eq i32 %30, %9
  br i1 %31, label %11, label %14, !llvm.loop !6
}

; Function Attrs: mustprogress nofree nounwind willreturn memory(read)
declare i32 @atoi(ptr nocapture noundef) local_unnamed_addr #2

; Function Attrs: nofree nounwind
declare noundef i32 @printf(ptr nocapture noundef readonly, ...) local_unnamed_addr #1

attributes #0 = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="generic" "target-features"="+multivalue,+mutable-globals,+reference-types,+sign-ext" }
attributes #1 = { nofree nounwind "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="generic" "target-features"="+multivalue,+mutable-globals,+reference-types,+sign-ext" }
attributes #2 = { mustprogress nofree nounwind willreturn memory(read) "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="generic" "target-features"="+multivalue,+mutable-globals,+reference-types,+sign-ext" }

!llvm.module.flags = !{!0}
!llvm.ident = !{!1}

!0 = !{i32 1, !"wchar_size", i32 4}
!1 = !{!"Debian clang version 19.1.7 (3~deb12u1)"}
!2 = !{!3, !3, i64 0}
!3 = !{!"any pointer", !4, i64 0}
!4 = !{!"omnipotent char", !5, i64 0}
!5 = !{!"Simple C/C++ TBAA"}
!6 = distinct !{!6, !7, !8}
!7 = !{!"llvm.loop.mustprogress"}
!8 = !{!"llvm.loop.unroll.disable"}
