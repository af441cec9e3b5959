; ModuleID = '/work/wt-rel-contain/tests/cli/data/calc.c'
source_filename = "/work/wt-rel-contain/tests/cli/data/calc.c"
target datalayout = "e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-wasi"

@.str = private unnamed_addr constant [14 x i8] c"calc: %d %ld\0A\00", align 1, !dbg !0

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none)
define hidden i32 @calc_mix(i32 noundef %0, i32 noundef %1) local_unnamed_addr #0 !dbg !15 {
    #dbg_value(i32 %0, !20, !DIExpression(), !22)
    #dbg_value(i32 %1, !21, !DIExpression(), !22)
  %3 = xor i32 %1, %0, !dbg !23
  %4 = and i32 %1, %0, !dbg !24
  %5 = mul nsw i32 %4, 3, !dbg !25
  %6 = or i32 %1, 5, !dbg !26
  %7 = sub i32 %3, %6, !dbg !27
  %8 = add i32 %7, %5, !dbg !28
  ret i32 %8, !dbg !29
}

; Function Attrs: mustprogress nofree norecurse nosync nounwind willreturn memory(none)
define hidden range(i32 -2147483648, 2147483637) i32 @calc_poly(i32 noundef %0) local_unnamed_addr #0 !dbg !30 {
    #dbg_value(i32 %0, !34, !DIExpression(), !35)
  %2 = mul i32 %0, 7, !dbg !36
  %3 = add i32 %2, 5
  %4 = mul i32 %3, %0
  %5 = add i32 %4, -11, !dbg !37
  ret i32 %5, !dbg !38
}

; Function Attrs: nofree nounwind
define hidden noundef i32 @__main_argc_argv(i32 noundef %0, ptr nocapture noundef readonly %1) local_unnamed_addr #1 !dbg !39 {
    #dbg_value(i32 %0, !45, !DIExpression(), !52)
    #dbg_value(ptr %1, !46, !DIExpression(), !52)
  %3 = icmp sgt i32 %0, 1, !dbg !53
  br i1 %3, label %4, label %8, !dbg !54

4:                                                ; preds = %2
  %5 = getelementptr inbounds i8, ptr %1, i32 4, !dbg !55
  %6 = load ptr, ptr %5, align 4, !dbg !55, !tbaa !56
  %7 = tail call i32 @atoi(ptr nocapture noundef %6), !dbg !60
  br label %8, !dbg !54

8:                                                ; preds = %2, %4
  %9 = phi i32 [ %7, %4 ], [ 10, %2 ], !dbg !54
    #dbg_value(i32 %9, !47, !DIExpression(), !52)
    #dbg_value(i32 0, !48, !DIExpression(), !52)
    #dbg_value(i32 0, !50, !DIExpression(), !61)
  %10 = icmp sgt i32 %9, 0, !dbg !62
  br i1 %10, label %14, label %11, !dbg !64

11:                                               ; preds = %14, %8
  %12 = phi i32 [ 0, %8 ], [ %29, %14 ], !dbg !52
  %13 = tail call i32 (ptr, ...) @printf(ptr noundef nonnull dereferenceable(1) @.str, i32 noundef %9, i32 noundef %12), !dbg !65
  ret i32 0, !dbg !66

14:                                               ; preds = %8, %14
  %15 = phi i32 [ %30, %14 ], [ 0, %8 ]
  %16 = phi i32 [ %29, %14 ], [ 0, %8 ]
    #dbg_value(i32 %15, !50, !DIExpression(), !61)
    #dbg_value(i32 %16, !48, !DIExpression(), !52)
  %17 = sub nsw i32 %9, %15, !dbg !67
    #dbg_value(i32 %15, !20, !DIExpression(), !68)
    #dbg_value(i32 %17, !21, !DIExpression(), !68)
  %18 = xor i32 %17, %15, !dbg !70
  %19 = and i32 %17, %15, !dbg !71
  %20 = mul nuw nsw i32 %19, 3, !dbg !72
  %21 = or i32 %17, 5, !dbg !73
    #dbg_value(i32 %15, !34, !DIExpression(), !74)
  %22 = mul i32 %15, 7, !dbg !76
  %23 = add i32 %22, 5
  %24 = mul i32 %23, %15
  %25 = add i32 %16, -11, !dbg !77
  %26 = sub i32 %25, %21, !dbg !78
  %27 = add i32 %26, %18, !dbg !79
  %28 = add i32 %27, %20, !dbg !80
  %29 = add i32 %28, %24, !dbg !81
    #dbg_value(i32 %29, !48, !DIExpression(), !52)
  %30 = add nuw nsw i32 %15, 1, !dbg !82
    #dbg_value(i32 %30, !50, !DIExpression(), !61)
  %31 = icmp eq i32 %30, %9, !dbg !62
  br i1 %31, label %11, label %14, !dbg !64, !llvm.loop !83
}

; Function Attrs: mustprogress nofree nounwind willreturn memory(read)
declare !dbg !87 i32 @atoi(ptr nocapture noundef) local_unnamed_addr #2

; Function Attrs: nofree nounwind
declare !dbg !93 noundef i32 @printf(ptr nocapture noundef readonly, ...) local_unnamed_addr #1

attributes #0 = { mustprogress nofree norecurse nosync nounwind willreturn memory(none) "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="generic" "target-features"="+multivalue,+mutable-globals,+reference-types,+sign-ext" }
attributes #1 = { nofree nounwind "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="generic" "target-features"="+multivalue,+mutable-globals,+reference-types,+sign-ext" }
attributes #2 = { mustprogress nofree nounwind willreturn memory(read) "no-trapping-math"="true" "stack-protector-buffer-size"="8" "target-cpu"="generic" "target-features"="+multivalue,+mutable-globals,+reference-types,+sign-ext" }

!llvm.dbg.cu = !{!7}
!llvm.module.flags = !{!10, !11, !12, !13}
!llvm.ident = !{!14}

!0 = !DIGlobalVariableExpression(var: !1, expr: !DIExpression())
!1 = distinct !DIGlobalVariable(scope: null, file: !2, line: 30, type: !3, isLocal: true, isDefinition: true)
!2 = !DIFile(filename: "/work/wt-rel-contain/tests/cli/data/calc.c", directory: "")
!3 = !DICompositeType(tag: DW_TAG_array_type, baseType: !4, size: 112, elements: !5)
!4 = !DIBasicType(name: "char", size: 8, encoding: DW_ATE_signed_char)
!5 = !{!6}
!6 = !DISubrange(count: 14)
!7 = distinct !DICompileUnit(language: DW_LANG_C11, file: !8, producer: "Debian clang version 19.1.7 (3~deb12u1)", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug, globals: !9, splitDebugInlining: false, nameTableKind: None)
!8 = !DIFile(filename: "/work/wt-rel-contain/tests/cli/data/calc.c", directory: "/tmp/rc")
!9 = !{!0}
!10 = !{i32 7, !"Dwarf Version", i32 4}
!11 = !{i32 2, !"Debug Info Version", i32 3}
!12 = !{i32 1, !"wchar_size", i32 4}
!13 = !{i32 7, !"debug-info-assignment-tracking", i1 true}
!14 = !{!"Debian clang version 19.1.7 (3~deb12u1)"}
!15 = distinct !DISubprogram(name: "calc_mix", scope: !2, file: !2, line: 6, type: !16, scopeLine: 7, flags: DIFlagPrototyped | DIFlagAllCallsDescribed, spFlags: DISPFlagDefinition | DISPFlagOptimized, unit: !7, retainedNodes: !19)
!16 = !DISubroutineType(types: !17)
!17 = !{!18, !18, !18}
!18 = !DIBasicType(name: "int", size: 32, encoding: DW_ATE_signed)
!19 = !{!20, !21}
!20 = !DILocalVariable(name: "a", arg: 1, scope: !15, file: !2, line: 6, type: !18)
!21 = !DILocalVariable(name: "b", arg: 2, scope: !15, file: !2, line: 6, type: !18)
!22 = !DILocation(line: 0, scope: !15)
!23 = !DILocation(line: 9, column: 15, scope: !15)
!24 = !DILocation(line: 9, column: 25, scope: !15)
!25 = !DILocation(line: 9, column: 30, scope: !15)
!26 = !DILocation(line: 9, column: 39, scope: !15)
!27 = !DILocation(line: 9, column: 20, scope: !15)
!28 = !DILocation(line: 9, column: 34, scope: !15)
!29 = !DILocation(line: 9, column: 5, scope: !15)
!30 = distinct !DISubprogram(name: "calc_poly", scope: !2, file: !2, line: 15, type: !31, scopeLine: 16, flags: DIFlagPrototyped | DIFlagAllCallsDescribed, spFlags: DISPFlagDefinition | DISPFlagOptimized, unit: !7, retainedNodes: !33)
!31 = !DISubroutineType(types: !32)
!32 = !{!18, !18}
!33 = !{!34}
!34 = !DILocalVariable(name: "x", arg: 1, scope: !30, file: !2, line: 15, type: !18)
!35 = !DILocation(line: 0, scope: !30)
!36 = !DILocation(line: 18, column: 18, scope: !30)
!37 = !DILocation(line: 18, column: 30, scope: !30)
!38 = !DILocation(line: 18, column: 5, scope: !30)
!39 = distinct !DISubprogram(name: "main", linkageName: "__main_argc_argv", scope: !2, file: !2, line: 24, type: !40, scopeLine: 25, flags: DIFlagPrototyped | DIFlagAllCallsDescribed, spFlags: DISPFlagDefinition | DISPFlagOptimized, unit: !7, retainedNodes: !44)
!40 = !DISubroutineType(types: !41)
!41 = !{!18, !18, !42}
!42 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !43, size: 32)
!43 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !4, size: 32)
!44 = !{!45, !46, !47, !48, !50}
!45 = !DILocalVariable(name: "argc", arg: 1, scope: !39, file: !2, line: 24, type: !18)
!46 = !DILocalVariable(name: "argv", arg: 2, scope: !39, file: !2, line: 24, type: !42)
!47 = !DILocalVariable(name: "n", scope: !39, file: !2, line: 26, type: !18)
!48 = !DILocalVariable(name: "sum", scope: !39, file: !2, line: 27, type: !49)
!49 = !DIBasicType(name: "long", size: 32, encoding: DW_ATE_signed)
!50 = !DILocalVariable(name: "i", scope: !51, file: !2, line: 28, type: !18)
!51 = distinct !DILexicalBlock(scope: !39, file: !2, line: 28, column: 5)
!52 = !DILocation(line: 0, scope: !39)
!53 = !DILocation(line: 26, column: 18, scope: !39)
!54 = !DILocation(line: 26, column: 13, scope: !39)
!55 = !DILocation(line: 26, column: 29, scope: !39)
!56 = !{!57, !57, i64 0}
!57 = !{!"any pointer", !58, i64 0}
!58 = !{!"omnipotent char", !59, i64 0}
!59 = !{!"Simple C/C++ TBAA"}
!60 = !DILocation(line: 26, column: 24, scope: !39)
!61 = !DILocation(line: 0, scope: !51)
!62 = !DILocation(line: 28, column: 23, scope: !63)
!63 = distinct !DILexicalBlock(scope: !51, file: !2, line: 28, column: 5)
!64 = !DILocation(line: 28, column: 5, scope: !51)
!65 = !DILocation(line: 30, column: 5, scope: !39)
!66 = !DILocation(line: 31, column: 5, scope: !39)
!67 = !DILocation(line: 29, column: 30, scope: !63)
!68 = !DILocation(line: 0, scope: !15, inlinedAt: !69)
!69 = distinct !DILocation(line: 29, column: 16, scope: !63)
!70 = !DILocation(line: 9, column: 15, scope: !15, inlinedAt: !69)
!71 = !DILocation(line: 9, column: 25, scope: !15, inlinedAt: !69)
!72 = !DILocation(line: 9, column: 30, scope: !15, inlinedAt: !69)
!73 = !DILocation(line: 9, column: 39, scope: !15, inlinedAt: !69)
!74 = !DILocation(line: 0, scope: !30, inlinedAt: !75)
!75 = distinct !DILocation(line: 29, column: 37, scope: !63)
!76 = !DILocation(line: 18, column: 18, scope: !30, inlinedAt: !75)
!77 = !DILocation(line: 18, column: 30, scope: !30, inlinedAt: !75)
!78 = !DILocation(line: 9, column: 20, scope: !15, inlinedAt: !69)
!79 = !DILocation(line: 9, column: 34, scope: !15, inlinedAt: !69)
!80 = !DILocation(line: 29, column: 35, scope: !63)
!81 = !DILocation(line: 29, column: 13, scope: !63)
!82 = !DILocation(line: 28, column: 29, scope: !63)
!83 = distinct !{!83, !64, !84, !85, !86}
!84 = !DILocation(line: 29, column: 48, scope: !51)
!85 = !{!"llvm.loop.mustprogress"}
!86 = !{!"llvm.loop.unroll.disable"}
!87 = !DISubprogram(name: "atoi", scope: !88, file: !88, line: 31, type: !89, flags: DIFlagPrototyped, spFlags: DISPFlagOptimized)
!88 = !DIFile(filename: "/usr/include/wasm32-wasi/stdlib.h", directory: "")
!89 = !DISubroutineType(types: !90)
!90 = !{!18, !91}
!91 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: !92, size: 32)
!92 = !DIDerivedType(tag: DW_TAG_const_type, baseType: !4)
!93 = !DISubprogram(name: "printf", scope: !94, file: !94, line: 124, type: !95, flags: DIFlagPrototyped, spFlags: DISPFlagOptimized)
!94 = !DIFile(filename: "/usr/include/wasm32-wasi/stdio.h", directory: "")
!95 = !DISubroutineType(types: !96)
!96 = !{!18, !97, null}
!97 = !DIDerivedType(tag: DW_TAG_restrict_type, baseType: !91)
