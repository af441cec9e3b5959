/*
 * test-clone.c - tests for function cloning, shape comparison, eligibility
 * and the pointer map, on hand-written IR and on C compiled by clang-19.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/IRReader.h>

#include "ir/clone.h"
#include "ir/eligibility.h"
#include "ir/fnshape.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"
#include "test-util.h"

/* The build passes the compilers it found; default to the usual ones. */
#ifndef MEWE_CLANG
#define MEWE_CLANG "clang-19"
#endif
#ifndef MEWE_RUSTC
#define MEWE_RUSTC "/usr/bin/rustc"
#endif

/* ---- helpers ------------------------------------------------------------ */

static LLVMModuleRef parse_ir(LLVMContextRef ctx, const char *ir)
{
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(ir, strlen(ir), "ir");
    LLVMModuleRef mod = NULL;
    char *msg = NULL;

    if (LLVMParseIRInContext(ctx, buf, &mod, &msg))
        ck_abort_msg("IR does not parse: %s", msg ? msg : "?");
    return mod;
}

static LLVMValueRef fn_named(LLVMModuleRef mod, const char *name)
{
    LLVMValueRef fn = LLVMGetNamedFunction(mod, name);

    ck_assert_msg(fn != NULL, "no function %s", name);
    return fn;
}

static void assert_module_valid(LLVMModuleRef mod)
{
    char *msg = NULL;
    LLVMBool broken = LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg);

    ck_assert_msg(!broken, "module fails verification: %s", msg ? msg : "");
    LLVMDisposeMessage(msg);
}

static LLVMValueRef inst_fn(LLVMValueRef inst)
{
    return LLVMGetBasicBlockParent(LLVMGetInstructionParent(inst));
}

static LLVMValueRef first_inst(LLVMValueRef fn, LLVMOpcode op, unsigned nth)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (LLVMGetInstructionOpcode(i) == op && nth-- == 0)
                return i;
        }
    }
    return NULL;
}

static int count_opcode(LLVMValueRef fn, LLVMOpcode op)
{
    int n = 0;

    while (first_inst(fn, op, (unsigned)n))
        n++;
    return n;
}

static int block_index(LLVMValueRef fn, LLVMBasicBlockRef want)
{
    int n = 0;

    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        if (bb == want)
            return n;
        n++;
    }
    return -1;
}

/* Every local value a clone's instruction refers to must be the clone's own. */
static void assert_self_contained(LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            int n = LLVMGetNumOperands(i);
            for (int k = 0; k < n; k++) {
                LLVMValueRef op = LLVMGetOperand(i, (unsigned)k);
                if (op && LLVMIsAInstruction(op))
                    ck_assert_ptr_eq(inst_fn(op), fn);
                if (op && LLVMIsAArgument(op))
                    ck_assert_ptr_eq(LLVMGetParamParent(op), fn);
                if (op && LLVMValueIsBasicBlock(op))
                    ck_assert_ptr_eq(LLVMGetBasicBlockParent(LLVMValueAsBasicBlock(op)), fn);
            }
            if (LLVMGetInstructionOpcode(i) != LLVMPHI)
                continue;
            for (unsigned k = 0; k < LLVMCountIncoming(i); k++)
                ck_assert_ptr_eq(LLVMGetBasicBlockParent(LLVMGetIncomingBlock(i, k)), fn);
        }
    }
}

/* No trace of debug info in fn's printed form. */
static void assert_no_debug(LLVMValueRef fn)
{
    char *text = LLVMPrintValueToString(fn);

    ck_assert_ptr_null(LLVMGetSubprogram(fn));
    ck_assert_msg(strstr(text, "!dbg") == NULL, "clone keeps !dbg:\n%s", text);
    ck_assert_msg(strstr(text, "dbg_") == NULL, "clone keeps debug records:\n%s", text);
    ck_assert_msg(strstr(text, "llvm.dbg.") == NULL, "clone keeps debug calls:\n%s", text);
    ck_assert_msg(strstr(text, "DIAssignID") == NULL, "clone keeps DIAssignID:\n%s", text);
    LLVMDisposeMessage(text);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            ck_assert_ptr_null(LLVMInstructionGetDebugLoc(i));
    }
}

/* Clone fn and check everything every clone must satisfy. */
static LLVMValueRef clone_checked(LLVMValueRef fn, const char *name)
{
    LLVMValueRef c;
    size_t len = 0;

    ck_assert_mewe_ok(mewe__function_clone(&c, tctx, fn, name));
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(LLVMGetValueName2(c, &len), name);
    ck_assert_ptr_eq(LLVMGlobalGetValueType(c), LLVMGlobalGetValueType(fn));
    ck_assert_int_eq(LLVMGetLinkage(c), LLVMGetLinkage(fn));
    ck_assert_uint_eq(LLVMCountBasicBlocks(c), LLVMCountBasicBlocks(fn));
    ck_assert_uint_eq(mewe__function_instruction_count(c), mewe__function_instruction_count(fn));
    ck_assert_msg(!LLVMVerifyFunction(c, LLVMReturnStatusAction), "clone %s is broken", name);
    assert_module_valid(LLVMGetGlobalParent(fn));
    assert_self_contained(c);
    assert_no_debug(c);
    ck_assert_int_eq(mewe__function_shape_equal(fn, c), 1);
    ck_assert_int_eq(mewe__function_shape_equal(c, fn), 1);
    ck_assert_uint_eq(mewe__function_shape_hash(fn), mewe__function_shape_hash(c));
    /* A clone is used only by whoever the caller hands it to (and by its own labels). */
    for (LLVMUseRef u = LLVMGetFirstUse(c); u; u = LLVMGetNextUse(u))
        ck_assert_int_eq(LLVMGetValueKind(LLVMGetUser(u)), LLVMBlockAddressValueKind);
    return c;
}

/* Clone every eligible function of mod (not the clones); returns how many. */
static int clone_all(LLVMModuleRef mod)
{
    LLVMValueRef fns[512];
    int n = 0, cloned = 0;
    char name[64];

    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f && n < 512; f = LLVMGetNextFunction(f))
        fns[n++] = f;
    for (int i = 0; i < n; i++) {
        if (mewe__function_ineligible_reason(fns[i]))
            continue;
        snprintf(name, sizeof name, "mewe.clone.%d", i);
        clone_checked(fns[i], name);
        cloned++;
    }
    return cloned;
}

/* ---- ptrmap ------------------------------------------------------------- */

START_TEST(test_ptrmap)
{
    mewe__ptrmap m;
    static char keys[5000];

    ck_assert_int_eq(mewe__ptrmap_init(&m, 0), MEWE_OK);
    ck_assert_ptr_null(mewe__ptrmap_get(&m, &keys[0]));
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(mewe__ptrmap_put(&m, &keys[i], &keys[(i + 1) % 5000]), MEWE_OK);
    for (int i = 0; i < 5000; i++)
        ck_assert_ptr_eq(mewe__ptrmap_get(&m, &keys[i]), &keys[(i + 1) % 5000]);
    ck_assert_int_eq(mewe__ptrmap_put(&m, &keys[7], NULL), MEWE_OK);
    ck_assert_ptr_null(mewe__ptrmap_get(&m, &keys[7]));
    ck_assert_int_eq(mewe__ptrmap_put(&m, &keys[7], &keys[3]), MEWE_OK);
    ck_assert_ptr_eq(mewe__ptrmap_get(&m, &keys[7]), &keys[3]);
    ck_assert_uint_eq(m.len, 5000);
    ck_assert_int_eq(mewe__ptrmap_put(&m, NULL, &keys[0]), MEWE_EINVAL);
    ck_assert_ptr_null(mewe__ptrmap_get(&m, &m));
    mewe__ptrmap_fini(&m);
    ck_assert_ptr_null(mewe__ptrmap_get(&m, &keys[1]));
    mewe__ptrmap_fini(&m);
}
END_TEST

/* ---- cloning hand-written IR -------------------------------------------- */

static const char ir_phi[] = "define i32 @loop(i32 %n) {\n"
                             "entry:\n"
                             "  br label %head\n"
                             "head:\n"
                             "  %i = phi i32 [ 0, %entry ], [ %next, %latch ]\n"
                             "  %acc = phi i32 [ 0, %entry ], [ %acc2, %latch ]\n"
                             "  %c = icmp slt i32 %i, %n\n"
                             "  br i1 %c, label %latch, label %exit\n"
                             "exit:\n"
                             "  ret i32 %acc\n"
                             "latch:\n"
                             "  %acc2 = add i32 %acc, %i\n"
                             "  %next = add nsw i32 %i, 1\n"
                             "  br label %head\n"
                             "}\n"
                             "define i32 @layout(i32 %x) {\n"
                             "entry:\n"
                             "  br label %def\n"
                             "use:\n"
                             "  %r = add i32 %d, 1\n"
                             "  ret i32 %r\n"
                             "def:\n"
                             "  %d = mul i32 %x, 3\n"
                             "  br label %use\n"
                             "}\n"
                             "define float @fphi(float %x, i1 %c) {\n"
                             "entry:\n"
                             "  br i1 %c, label %a, label %b\n"
                             "a:\n"
                             "  %y = fmul fast float %x, 2.0\n"
                             "  br label %b\n"
                             "b:\n"
                             "  %p = phi nnan ninf float [ %x, %entry ], [ %y, %a ]\n"
                             "  ret float %p\n"
                             "}\n";

START_TEST(test_clone_phi_and_forward_refs)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_phi);
    LLVMValueRef loop = fn_named(mod, "loop");
    LLVMValueRef c = clone_checked(loop, "loop.v1");
    LLVMValueRef phi = first_inst(c, LLVMPHI, 0);
    LLVMValueRef next = LLVMGetIncomingValue(phi, 1);
    LLVMValueRef use, d;

    ck_assert_int_eq(count_opcode(c, LLVMPHI), 2);
    ck_assert_uint_eq(LLVMCountIncoming(phi), 2);
    /* %next is defined after the phi in layout order and in a later block. */
    ck_assert_ptr_nonnull(LLVMIsAInstruction(next));
    ck_assert_ptr_eq(inst_fn(next), c);
    ck_assert_int_eq(LLVMGetInstructionOpcode(next), LLVMAdd);
    ck_assert_int_eq(LLVMGetNSW(next), 1);
    ck_assert_int_eq(block_index(c, LLVMGetIncomingBlock(phi, 1)), 3);
    ck_assert_int_eq(block_index(c, LLVMGetIncomingBlock(phi, 0)), 0);
    ck_assert_int_eq(block_index(c, LLVMGetInstructionParent(next)), 3);
    ck_assert_ptr_eq(LLVMGetIncomingValue(phi, 0),
                     LLVMGetIncomingValue(first_inst(loop, LLVMPHI, 0), 0));

    c = clone_checked(fn_named(mod, "layout"), "layout.v1");
    use = first_inst(c, LLVMAdd, 0);
    d = LLVMGetOperand(use, 0);
    ck_assert_ptr_eq(inst_fn(d), c);
    ck_assert_int_eq(LLVMGetInstructionOpcode(d), LLVMMul);
    ck_assert_int_eq(block_index(c, LLVMGetInstructionParent(d)), 2);
    ck_assert_int_eq(block_index(c, LLVMGetInstructionParent(use)), 1);
    ck_assert_ptr_eq(LLVMGetOperand(d, 0), LLVMGetParam(c, 0));
    ck_assert_str_eq(LLVMGetValueName(LLVMGetParam(c, 0)), "x");
    ck_assert_str_eq(LLVMGetValueName(d), "d");

    /* Rebuilt phis keep their fast-math flags. */
    c = clone_checked(fn_named(mod, "fphi"), "fphi.v1");
    ck_assert_int_eq(LLVMGetFastMathFlags(first_inst(c, LLVMPHI, 0)),
                     LLVMFastMathNoNaNs | LLVMFastMathNoInfs);
    ck_assert_int_eq(LLVMGetFastMathFlags(first_inst(c, LLVMFMul, 0)), LLVMFastMathAll);
    ck_assert_ptr_eq(LLVMGetIncomingValue(first_inst(c, LLVMPHI, 0), 1),
                     first_inst(c, LLVMFMul, 0));
    /* Setting fast-math flags only ever adds to them. */
    LLVMSetFastMathFlags(first_inst(c, LLVMPHI, 0), LLVMFastMathAll);
    ck_assert_int_eq(mewe__function_shape_equal(fn_named(mod, "fphi"), c), 0);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_switch[] = "define i32 @sw(i32 %x, i32 %y) {\n"
                                "entry:\n"
                                "  %lt = icmp ult i32 %y, 40\n"
                                "  switch i32 %x, label %def [\n"
                                "    i32 0, label %a\n"
                                "    i32 1, label %b\n"
                                "    i32 2, label %b\n"
                                "    i32 7, label %c\n"
                                "  ]\n"
                                "a:\n"
                                "  br label %join\n"
                                "b:\n"
                                "  %pb = phi i32 [ 5, %entry ], [ 5, %entry ]\n"
                                "  %s = select i1 %lt, i32 %y, i32 %pb\n"
                                "  br label %join\n"
                                "c:\n"
                                "  br label %join\n"
                                "def:\n"
                                "  br label %join\n"
                                "join:\n"
                                "  %r = phi i32 [ 1, %a ], [ %s, %b ], [ 3, %c ], [ %x, %def ]\n"
                                "  ret i32 %r\n"
                                "}\n";

START_TEST(test_clone_switch_select)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_switch);
    LLVMValueRef fn = fn_named(mod, "sw");
    LLVMValueRef c = clone_checked(fn, "sw.v1");
    LLVMValueRef osw = first_inst(fn, LLVMSwitch, 0);
    LLVMValueRef sw = first_inst(c, LLVMSwitch, 0);
    LLVMValueRef sel = first_inst(c, LLVMSelect, 0);
    LLVMValueRef pb = first_inst(c, LLVMPHI, 0);

    ck_assert_ptr_nonnull(sw);
    ck_assert_uint_eq(LLVMGetNumSuccessors(sw), LLVMGetNumSuccessors(osw));
    ck_assert_uint_eq(LLVMGetNumSuccessors(sw), 5);
    for (unsigned i = 0; i < LLVMGetNumSuccessors(sw); i++) {
        LLVMBasicBlockRef s = LLVMGetSuccessor(sw, i);
        ck_assert_ptr_eq(LLVMGetBasicBlockParent(s), c);
        ck_assert_int_eq(block_index(c, s), block_index(fn, LLVMGetSuccessor(osw, i)));
    }
    ck_assert_ptr_eq(LLVMGetOperand(sw, 0), LLVMGetParam(c, 0));
    /* Two edges from entry reach %b: the phi keeps both entries. */
    ck_assert_uint_eq(LLVMCountIncoming(pb), 2);
    ck_assert_int_eq(block_index(c, LLVMGetIncomingBlock(pb, 1)), 0);
    ck_assert_ptr_eq(LLVMGetOperand(sel, 0), first_inst(c, LLVMICmp, 0));
    ck_assert_ptr_eq(LLVMGetOperand(sel, 2), pb);
    ck_assert_int_eq(LLVMGetICmpPredicate(first_inst(c, LLVMICmp, 0)), LLVMIntULT);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_atomic[] =
    "define i32 @atom(ptr %p, i32 %v) {\n"
    "entry:\n"
    "  %old = atomicrmw add ptr %p, i32 %v seq_cst, align 4\n"
    "  %x = atomicrmw volatile xchg ptr %p, i32 %old syncscope(\"singlethread\") monotonic,"
    " align 4\n"
    "  %pair = cmpxchg weak ptr %p, i32 %x, i32 %v acq_rel acquire, align 4\n"
    "  %got = extractvalue { i32, i1 } %pair, 0\n"
    "  fence syncscope(\"singlethread\") release\n"
    "  %l = load atomic i32, ptr %p acquire, align 4\n"
    "  store atomic i32 %l, ptr %p release, align 4\n"
    "  %r = add i32 %got, %l\n"
    "  ret i32 %r\n"
    "}\n";

START_TEST(test_clone_atomics)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_atomic);
    LLVMValueRef c = clone_checked(fn_named(mod, "atom"), "atom.v1");
    LLVMValueRef rmw = first_inst(c, LLVMAtomicRMW, 0);
    LLVMValueRef xchg = first_inst(c, LLVMAtomicRMW, 1);
    LLVMValueRef cx = first_inst(c, LLVMAtomicCmpXchg, 0);
    LLVMValueRef fence = first_inst(c, LLVMFence, 0);

    ck_assert_int_eq(LLVMGetAtomicRMWBinOp(rmw), LLVMAtomicRMWBinOpAdd);
    ck_assert_int_eq(LLVMGetOrdering(rmw), LLVMAtomicOrderingSequentiallyConsistent);
    ck_assert_int_eq(LLVMGetAtomicRMWBinOp(xchg), LLVMAtomicRMWBinOpXchg);
    ck_assert_int_eq(LLVMGetVolatile(xchg), 1);
    ck_assert_int_eq(LLVMIsAtomicSingleThread(xchg), 1);
    ck_assert_ptr_eq(LLVMGetOperand(xchg, 1), rmw);
    ck_assert_int_eq(LLVMGetWeak(cx), 1);
    ck_assert_int_eq(LLVMGetCmpXchgSuccessOrdering(cx), LLVMAtomicOrderingAcquireRelease);
    ck_assert_int_eq(LLVMGetCmpXchgFailureOrdering(cx), LLVMAtomicOrderingAcquire);
    ck_assert_ptr_eq(LLVMGetOperand(cx, 1), xchg);
    ck_assert_int_eq(LLVMGetOrdering(fence), LLVMAtomicOrderingRelease);
    ck_assert_int_eq(LLVMIsAtomicSingleThread(fence), 1);
    ck_assert_int_eq(LLVMGetOrdering(first_inst(c, LLVMLoad, 0)), LLVMAtomicOrderingAcquire);
    ck_assert_int_eq(LLVMGetOrdering(first_inst(c, LLVMStore, 0)), LLVMAtomicOrderingRelease);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_vector[] = "declare i32 @llvm.vector.reduce.add.v4i32(<4 x i32>)\n"
                                "define i32 @vec(<4 x i32> %a, <4 x i32> %b, i32 %e) {\n"
                                "  %s = add <4 x i32> %a, %b\n"
                                "  %sh = shufflevector <4 x i32> %s, <4 x i32> %a,"
                                " <4 x i32> <i32 3, i32 6, i32 1, i32 poison>\n"
                                "  %ins = insertelement <4 x i32> %sh, i32 %e, i64 2\n"
                                "  %ext = extractelement <4 x i32> %ins, i64 0\n"
                                "  %red = call i32 @llvm.vector.reduce.add.v4i32(<4 x i32> %ins)\n"
                                "  %r = add i32 %red, %ext\n"
                                "  ret i32 %r\n"
                                "}\n";

START_TEST(test_clone_vectors)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_vector);
    LLVMValueRef fn = fn_named(mod, "vec");
    LLVMValueRef c = clone_checked(fn, "vec.v1");
    LLVMValueRef sh = first_inst(c, LLVMShuffleVector, 0);
    LLVMValueRef red = first_inst(c, LLVMCall, 0);

    ck_assert_int_eq(LLVMGetTypeKind(LLVMTypeOf(sh)), LLVMVectorTypeKind);
    ck_assert_uint_eq(LLVMGetNumMaskElements(sh), 4);
    ck_assert_int_eq(LLVMGetMaskValue(sh, 0), 3);
    ck_assert_int_eq(LLVMGetMaskValue(sh, 1), 6);
    ck_assert_int_eq(LLVMGetMaskValue(sh, 3), LLVMGetUndefMaskElem());
    ck_assert_ptr_eq(LLVMGetOperand(sh, 0), first_inst(c, LLVMAdd, 0));
    ck_assert_ptr_eq(LLVMGetCalledValue(red), LLVMGetCalledValue(first_inst(fn, LLVMCall, 0)));
    ck_assert_ptr_eq(LLVMGetOperand(red, 0), first_inst(c, LLVMInsertElement, 0));
    ck_assert_ptr_eq(LLVMGetOperand(first_inst(c, LLVMExtractElement, 0), 0),
                     first_inst(c, LLVMInsertElement, 0));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_overflow[] =
    "declare { i32, i1 } @llvm.sadd.with.overflow.i32(i32, i32)\n"
    "declare { i64, i1 } @llvm.umul.with.overflow.i64(i64, i64)\n"
    "declare void @llvm.trap()\n"
    "define i32 @ovf(i32 %a, i32 %b, i64 %c) {\n"
    "entry:\n"
    "  %r = call { i32, i1 } @llvm.sadd.with.overflow.i32(i32 %a, i32 %b)\n"
    "  %v = extractvalue { i32, i1 } %r, 0\n"
    "  %o = extractvalue { i32, i1 } %r, 1\n"
    "  %m = call { i64, i1 } @llvm.umul.with.overflow.i64(i64 %c, i64 %c)\n"
    "  %mo = extractvalue { i64, i1 } %m, 1\n"
    "  %any = or i1 %o, %mo\n"
    "  br i1 %any, label %bad, label %ok\n"
    "bad:\n"
    "  call void @llvm.trap()\n"
    "  unreachable\n"
    "ok:\n"
    "  ret i32 %v\n"
    "}\n";

START_TEST(test_clone_overflow_and_unreachable)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_overflow);
    LLVMValueRef fn = fn_named(mod, "ovf");
    LLVMValueRef c = clone_checked(fn, "ovf.v1");
    LLVMValueRef call = first_inst(c, LLVMCall, 0);
    LLVMValueRef ev = first_inst(c, LLVMExtractValue, 1);
    LLVMBasicBlockRef bad = LLVMGetNextBasicBlock(LLVMGetFirstBasicBlock(c));

    ck_assert_ptr_eq(LLVMGetCalledValue(call),
                     LLVMGetNamedFunction(mod, "llvm.sadd.with.overflow.i32"));
    ck_assert_ptr_eq(LLVMGetOperand(call, 0), LLVMGetParam(c, 0));
    ck_assert_ptr_eq(LLVMGetOperand(ev, 0), call);
    ck_assert_uint_eq(LLVMGetNumIndices(ev), 1);
    ck_assert_uint_eq(LLVMGetIndices(ev)[0], 1);
    ck_assert_int_eq(LLVMGetInstructionOpcode(LLVMGetBasicBlockTerminator(bad)), LLVMUnreachable);
    ck_assert_int_eq(count_opcode(c, LLVMUnreachable), 1);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_memcpy[] =
    "declare void @llvm.memcpy.p0.p0.i64(ptr noalias nocapture writeonly,"
    " ptr noalias nocapture readonly, i64, i1 immarg)\n"
    "declare void @llvm.lifetime.start.p0(i64 immarg, ptr nocapture)\n"
    "declare void @llvm.lifetime.end.p0(i64 immarg, ptr nocapture)\n"
    "declare void @use(ptr)\n"
    "define void @mc(ptr %d, ptr %s) {\n"
    "entry:\n"
    "  %buf = alloca [64 x i8], align 16\n"
    "  call void @llvm.lifetime.start.p0(i64 64, ptr %buf)\n"
    "  call void @llvm.memcpy.p0.p0.i64(ptr align 16 %buf, ptr align 1 %s, i64 64, i1 false)\n"
    "  call void @use(ptr nonnull %buf)\n"
    "  call void @llvm.memcpy.p0.p0.i64(ptr align 1 %d, ptr align 16 %buf, i64 64, i1 false)\n"
    "  call void @llvm.lifetime.end.p0(i64 64, ptr %buf)\n"
    "  ret void\n"
    "}\n";

START_TEST(test_clone_memcpy_lifetime)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_memcpy);
    LLVMValueRef c = clone_checked(fn_named(mod, "mc"), "mc.v1");
    LLVMValueRef buf = first_inst(c, LLVMAlloca, 0);
    LLVMValueRef cpy = first_inst(c, LLVMCall, 1);
    LLVMValueRef use = first_inst(c, LLVMCall, 2);
    unsigned align = LLVMGetEnumAttributeKindForName("align", 5);
    unsigned nonnull = LLVMGetEnumAttributeKindForName("nonnull", 7);
    LLVMAttributeRef a;

    ck_assert_uint_eq(LLVMGetAlignment(buf), 16);
    ck_assert_ptr_eq(LLVMGetCalledValue(cpy), LLVMGetNamedFunction(mod, "llvm.memcpy.p0.p0.i64"));
    ck_assert_ptr_eq(LLVMGetOperand(cpy, 0), buf);
    ck_assert_ptr_eq(LLVMGetOperand(cpy, 1), LLVMGetParam(c, 1));
    a = LLVMGetCallSiteEnumAttribute(cpy, 1, align);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(LLVMGetEnumAttributeValue(a), 16);
    ck_assert_ptr_nonnull(LLVMGetCallSiteEnumAttribute(use, 1, nonnull));
    ck_assert_ptr_eq(LLVMGetOperand(first_inst(c, LLVMCall, 0), 1), buf);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_calls[] = "@fptr = global ptr null\n"
                               "define i32 @fib(i32 %n) {\n"
                               "entry:\n"
                               "  %c = icmp slt i32 %n, 2\n"
                               "  br i1 %c, label %done, label %rec\n"
                               "rec:\n"
                               "  %n1 = sub i32 %n, 1\n"
                               "  %a = call i32 @fib(i32 %n1)\n"
                               "  %n2 = sub i32 %n, 2\n"
                               "  %b = tail call fastcc i32 @fib(i32 %n2)\n"
                               "  %s = add i32 %a, %b\n"
                               "  ret i32 %s\n"
                               "done:\n"
                               "  ret i32 %n\n"
                               "}\n"
                               "define i32 @ind(ptr %f, i32 %x) {\n"
                               "  %r = call i32 %f(i32 %x)\n"
                               "  %g = load ptr, ptr @fptr, align 8\n"
                               "  %s = call i32 %g(i32 %r)\n"
                               "  ret i32 %s\n"
                               "}\n";

START_TEST(test_clone_recursion)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_calls);
    LLVMValueRef fib = fn_named(mod, "fib");
    LLVMValueRef c = clone_checked(fib, "fib.v1");
    LLVMValueRef a = first_inst(c, LLVMCall, 0);
    LLVMValueRef b = first_inst(c, LLVMCall, 1);

    ck_assert_ptr_eq(LLVMGetCalledValue(a), fib);
    ck_assert_ptr_eq(LLVMGetCalledValue(b), fib);
    ck_assert_int_eq(LLVMGetTailCallKind(b), LLVMTailCallKindTail);
    ck_assert_uint_eq(LLVMGetInstructionCallConv(b), LLVMFastCallConv);
    ck_assert_ptr_eq(LLVMGetOperand(a, 0), first_inst(c, LLVMSub, 0));
    ck_assert_ptr_null(LLVMGetFirstUse(c));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

START_TEST(test_clone_indirect_calls)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_calls);
    LLVMValueRef c = clone_checked(fn_named(mod, "ind"), "ind.v1");
    LLVMValueRef first = first_inst(c, LLVMCall, 0);
    LLVMValueRef second = first_inst(c, LLVMCall, 1);
    LLVMValueRef load = first_inst(c, LLVMLoad, 0);

    ck_assert_ptr_eq(LLVMGetCalledValue(first), LLVMGetParam(c, 0));
    ck_assert_ptr_eq(LLVMGetCalledValue(second), load);
    ck_assert_ptr_eq(LLVMGetOperand(second, 0), first);
    ck_assert_ptr_eq(LLVMGetOperand(load, 0), LLVMGetNamedGlobal(mod, "fptr"));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

static const char ir_attrs[] =
    "%struct.S = type { i32, i32 }\n"
    "declare i32 @__gxx_personality_v0(...)\n"
    "define internal fastcc noundef zeroext i8 @attrs(ptr noalias nocapture nonnull"
    " dereferenceable(8) %p, ptr byval(%struct.S) align 4 %s, i32 \"custom\"=\"yes\" %n)"
    " unnamed_addr #0 section \".text.mewe\" align 16 gc \"shadow-stack\""
    " personality ptr @__gxx_personality_v0 !prof !0 {\n"
    "entry:\n"
    "  %v = load i32, ptr %p, align 4, !range !1, !noundef !2\n"
    "  %q = load ptr, ptr %s, align 8, !nonnull !2\n"
    "  %t = trunc i32 %v to i8\n"
    "  ret i8 %t\n"
    "}\n"
    "attributes #0 = { nounwind uwtable \"frame-pointer\"=\"all\" }\n"
    "!0 = !{!\"function_entry_count\", i64 100}\n"
    "!1 = !{i32 0, i32 10}\n"
    "!2 = !{}\n";

static void assert_same_attrs(LLVMValueRef a, LLVMValueRef b, LLVMAttributeIndex idx)
{
    unsigned n = LLVMGetAttributeCountAtIndex(a, idx);
    LLVMAttributeRef xs[32], ys[32];

    ck_assert_uint_le(n, 32);
    ck_assert_uint_eq(LLVMGetAttributeCountAtIndex(b, idx), n);
    LLVMGetAttributesAtIndex(a, idx, xs);
    LLVMGetAttributesAtIndex(b, idx, ys);
    for (unsigned i = 0; i < n; i++)
        ck_assert_ptr_eq(xs[i], ys[i]);
}

static int has_fn_metadata(LLVMValueRef fn, const char *kind)
{
    LLVMContextRef ctx = LLVMGetTypeContext(LLVMTypeOf(fn));
    unsigned want = LLVMGetMDKindIDInContext(ctx, kind, (unsigned)strlen(kind));
    size_t n = 0;
    LLVMValueMetadataEntry *md = LLVMGlobalCopyAllMetadata(fn, &n);
    int found = 0;

    for (size_t i = 0; i < n; i++)
        found |= LLVMValueMetadataEntriesGetKind(md, (unsigned)i) == want;
    if (md)
        LLVMDisposeValueMetadataEntries(md);
    return found;
}

START_TEST(test_clone_attributes_and_properties)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_attrs);
    LLVMValueRef fn = fn_named(mod, "attrs");
    LLVMValueRef c = clone_checked(fn, "attrs.v1");
    unsigned deref = LLVMGetEnumAttributeKindForName("dereferenceable", 15);
    unsigned byval = LLVMGetEnumAttributeKindForName("byval", 5);
    unsigned nonnull_md = LLVMGetMDKindIDInContext(ctx, "nonnull", 7);
    unsigned range_md = LLVMGetMDKindIDInContext(ctx, "range", 5);
    LLVMAttributeRef a;
    unsigned len = 0;

    ck_assert_uint_eq(LLVMGetFunctionCallConv(c), LLVMFastCallConv);
    ck_assert_int_eq(LLVMGetLinkage(c), LLVMInternalLinkage);
    ck_assert_int_eq(LLVMGetUnnamedAddress(c), LLVMGlobalUnnamedAddr);
    ck_assert_str_eq(LLVMGetSection(c), ".text.mewe");
    ck_assert_uint_eq(LLVMGetAlignment(c), 16);
    ck_assert_str_eq(LLVMGetGC(c), "shadow-stack");
    ck_assert_int_eq(LLVMHasPersonalityFn(c), 1);
    ck_assert_ptr_eq(LLVMGetPersonalityFn(c), LLVMGetPersonalityFn(fn));
    assert_same_attrs(fn, c, LLVMAttributeFunctionIndex);
    assert_same_attrs(fn, c, LLVMAttributeReturnIndex);
    for (unsigned i = 1; i <= 3; i++)
        assert_same_attrs(fn, c, i);
    ck_assert_uint_ge(LLVMGetAttributeCountAtIndex(c, LLVMAttributeFunctionIndex), 3);
    a = LLVMGetStringAttributeAtIndex(c, LLVMAttributeFunctionIndex, "frame-pointer", 13);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(strncmp(LLVMGetStringAttributeValue(a, &len), "all", 3), 0);
    a = LLVMGetEnumAttributeAtIndex(c, 1, deref);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(LLVMGetEnumAttributeValue(a), 8);
    a = LLVMGetEnumAttributeAtIndex(c, 2, byval);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(LLVMGetTypeAttributeValue(a), LLVMGetTypeByName2(ctx, "struct.S"));
    ck_assert_ptr_nonnull(LLVMGetStringAttributeAtIndex(c, 3, "custom", 6));
    ck_assert_str_eq(LLVMGetValueName(LLVMGetParam(c, 0)), "p");
    ck_assert_str_eq(LLVMGetValueName(LLVMGetParam(c, 2)), "n");
    ck_assert_ptr_nonnull(LLVMGetMetadata(first_inst(c, LLVMLoad, 0), range_md));
    ck_assert_ptr_nonnull(LLVMGetMetadata(first_inst(c, LLVMLoad, 1), nonnull_md));
    ck_assert(has_fn_metadata(c, "prof"));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* Looks like rustc output: a personality without landing pads, panics
 * ending in unreachable, llvm.expect/assume, i128 and range attributes. */
static const char ir_rustish[] =
    "%\"core::panic::Location\" = type { { ptr, i64 }, i32, i32 }\n"
    "@loc = private unnamed_addr constant %\"core::panic::Location\" zeroinitializer\n"
    "declare i32 @rust_eh_personality(...)\n"
    "declare void @_ZN4core9panicking5panic17h0E(ptr, i64, ptr) cold noreturn nounwind\n"
    "declare i1 @llvm.expect.i1(i1, i1)\n"
    "declare void @llvm.assume(i1)\n"
    "define { i128, i1 } @_ZN1a3mul17h1E(i128 noundef %a, i64 noundef range(i64 0, 100) %b)"
    " unnamed_addr personality ptr @rust_eh_personality {\n"
    "start:\n"
    "  %nz = icmp ne i64 %b, 0\n"
    "  call void @llvm.assume(i1 %nz)\n"
    "  %w = zext nneg i64 %b to i128\n"
    "  %p = mul nuw i128 %a, %w\n"
    "  %big = icmp ugt i128 %p, 1000\n"
    "  %e = call i1 @llvm.expect.i1(i1 %big, i1 false)\n"
    "  br i1 %e, label %panic, label %ok\n"
    "ok:\n"
    "  %r0 = insertvalue { i128, i1 } poison, i128 %p, 0\n"
    "  %r1 = insertvalue { i128, i1 } %r0, i1 %big, 1\n"
    "  ret { i128, i1 } %r1\n"
    "panic:\n"
    "  call void @_ZN4core9panicking5panic17h0E(ptr null, i64 0, ptr @loc)\n"
    "  unreachable\n"
    "}\n";

START_TEST(test_clone_rust_like)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_rustish);
    LLVMValueRef fn = fn_named(mod, "_ZN1a3mul17h1E");
    LLVMValueRef c;

    ck_assert_ptr_null(mewe__function_ineligible_reason(fn));
    c = clone_checked(fn, "_ZN1a3mul17h1E.v1");
    ck_assert_ptr_eq(LLVMGetPersonalityFn(c), LLVMGetNamedFunction(mod, "rust_eh_personality"));
    ck_assert_int_eq(LLVMGetNNeg(first_inst(c, LLVMZExt, 0)), 1);
    ck_assert_int_eq(LLVMGetNUW(first_inst(c, LLVMMul, 0)), 1);
    ck_assert_uint_eq(LLVMGetIndices(first_inst(c, LLVMInsertValue, 1))[0], 1);
    ck_assert_ptr_nonnull(
        LLVMGetEnumAttributeAtIndex(c, 2, LLVMGetEnumAttributeKindForName("range", 5)));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* Debug info in the old intrinsic form, assignment tracking included. */
static const char ir_debug[] =
    "declare void @llvm.dbg.value(metadata, metadata, metadata)\n"
    "declare void @llvm.dbg.assign(metadata, metadata, metadata, metadata, metadata,"
    " metadata)\n"
    "define i32 @dbgfn(i32 %n) !dbg !5 {\n"
    "entry:\n"
    "  %a = alloca i32, align 4, !DIAssignID !20\n"
    "  call void @llvm.dbg.assign(metadata i1 undef, metadata !11, metadata !DIExpression(),"
    " metadata !20, metadata ptr %a, metadata !DIExpression()), !dbg !12\n"
    "  store i32 %n, ptr %a, align 4, !DIAssignID !21\n"
    "  call void @llvm.dbg.assign(metadata i32 %n, metadata !11, metadata !DIExpression(),"
    " metadata !21, metadata ptr %a, metadata !DIExpression()), !dbg !12\n"
    "  call void @llvm.dbg.value(metadata i32 %n, metadata !11, metadata !DIExpression()),"
    " !dbg !12\n"
    "  br label %loop, !dbg !12\n"
    "loop:\n"
    "  %i = phi i32 [ 0, %entry ], [ %next, %loop ], !dbg !12\n"
    "  %next = add i32 %i, 1, !dbg !12\n"
    "  %c = icmp slt i32 %next, %n, !dbg !12\n"
    "  br i1 %c, label %loop, label %loop2, !dbg !12, !llvm.loop !13\n"
    "loop2:\n"
    "  %j = phi i32 [ 0, %loop ], [ %jn, %loop2 ]\n"
    "  %jn = add i32 %j, 2, !dbg !12\n"
    "  %c2 = icmp slt i32 %jn, %n\n"
    "  br i1 %c2, label %loop2, label %exit, !llvm.loop !16\n"
    "exit:\n"
    "  %l = load i32, ptr %a, align 4, !dbg !12\n"
    "  %r = add i32 %l, %jn\n"
    "  ret i32 %r, !dbg !12\n"
    "}\n"
    "!llvm.dbg.cu = !{!0}\n"
    "!llvm.module.flags = !{!3, !4, !30}\n"
    "!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: \"clang\","
    " isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug)\n"
    "!1 = !DIFile(filename: \"t.c\", directory: \"/tmp\")\n"
    "!3 = !{i32 7, !\"Dwarf Version\", i32 5}\n"
    "!4 = !{i32 2, !\"Debug Info Version\", i32 3}\n"
    "!30 = !{i32 7, !\"debug-info-assignment-tracking\", i1 true}\n"
    "!5 = distinct !DISubprogram(name: \"dbgfn\", scope: !1, file: !1, line: 1, type: !6,"
    " scopeLine: 1, flags: DIFlagPrototyped, spFlags: DISPFlagDefinition |"
    " DISPFlagOptimized, unit: !0, retainedNodes: !10)\n"
    "!6 = !DISubroutineType(types: !7)\n"
    "!7 = !{!8, !8}\n"
    "!8 = !DIBasicType(name: \"int\", size: 32, encoding: DW_ATE_signed)\n"
    "!10 = !{!11}\n"
    "!11 = !DILocalVariable(name: \"n\", arg: 1, scope: !5, file: !1, line: 1, type: !8)\n"
    "!12 = !DILocation(line: 2, column: 3, scope: !5)\n"
    "!13 = distinct !{!13, !12, !14, !15}\n"
    "!14 = !DILocation(line: 3, column: 1, scope: !5)\n"
    "!15 = !{!\"llvm.loop.mustprogress\"}\n"
    "!16 = distinct !{!16, !15}\n"
    "!20 = distinct !DIAssignID()\n"
    "!21 = distinct !DIAssignID()\n";

static unsigned raw_instruction_count(LLVMValueRef fn)
{
    unsigned n = 0;

    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            n++;
    }
    return n;
}

/* Runs once with debug intrinsic calls (_i == 0) and once with debug
 * records (_i == 1), the two forms LLVM 19 modules can be in. */
START_TEST(test_clone_strips_debug_info)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_debug);
    LLVMValueRef fn = fn_named(mod, "dbgfn");
    unsigned loop_md = LLVMGetMDKindIDInContext(ctx, "llvm.loop", 9);
    char *text;
    LLVMValueRef c;

    LLVMSetIsNewDbgInfoFormat(mod, _i);
    ck_assert_int_eq(LLVMIsNewDbgInfoFormat(mod), _i);
    assert_module_valid(mod);
    ck_assert_ptr_nonnull(LLVMGetSubprogram(fn));
    ck_assert_ptr_nonnull(LLVMInstructionGetDebugLoc(first_inst(fn, LLVMAdd, 0)));
    text = LLVMPrintValueToString(fn);
    ck_assert_msg(strstr(text, "DIAssignID") != NULL, "fixture lost DIAssignID");
    ck_assert_msg(strstr(text, _i ? "#dbg_assign" : "call void @llvm.dbg.assign"),
                  "fixture lacks debug info in the expected form:\n%s", text);
    LLVMDisposeMessage(text);
    ck_assert_uint_eq(mewe__function_instruction_count(fn), 14);
    ck_assert_uint_eq(raw_instruction_count(fn), _i ? 14 : 17);

    c = clone_checked(fn, "dbgfn.v1");
    ck_assert_uint_eq(raw_instruction_count(c), 14);
    /* Loop hints with source locations are dropped, plain ones kept. */
    ck_assert_ptr_null(LLVMGetMetadata(first_inst(c, LLVMBr, 1), loop_md));
    ck_assert_ptr_nonnull(LLVMGetMetadata(first_inst(c, LLVMBr, 2), loop_md));
    ck_assert_ptr_nonnull(LLVMGetMetadata(first_inst(fn, LLVMBr, 1), loop_md));
    ck_assert_ptr_nonnull(LLVMGetSubprogram(fn));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* ---- shape -------------------------------------------------------------- */

static const char ir_shape[] = "define i32 @sh(i32 %a, i32 %b) {\n"
                               "entry:\n"
                               "  %x = add nsw i32 %a, %b\n"
                               "  %c = icmp slt i32 %x, 10\n"
                               "  %p = alloca i32, align 4\n"
                               "  store i32 %x, ptr %p, align 4\n"
                               "  br i1 %c, label %t, label %f\n"
                               "t:\n"
                               "  %y = mul i32 %x, 3\n"
                               "  ret i32 %y\n"
                               "f:\n"
                               "  ret i32 %b\n"
                               "}\n"
                               "define i32 @sh2(i32 %a2, i32 %b2) {\n"
                               "entry:\n"
                               "  %x = add nsw i32 %b2, %a2\n"
                               "  %c = icmp slt i32 %x, 10\n"
                               "  %p = alloca i32, align 4\n"
                               "  store i32 %x, ptr %p, align 4\n"
                               "  br i1 %c, label %t, label %f\n"
                               "t:\n"
                               "  %y = mul i32 %x, 3\n"
                               "  ret i32 %y\n"
                               "f:\n"
                               "  ret i32 %b2\n"
                               "}\n"
                               "define i32 @sh3(i32 %a, i32 %b) {\n"
                               "entry:\n"
                               "  %x = add nsw i32 %a, %b\n"
                               "  %c = icmp sgt i32 %x, 10\n"
                               "  %p = alloca i32, align 4\n"
                               "  store i32 %x, ptr %p, align 4\n"
                               "  br i1 %c, label %t, label %f\n"
                               "t:\n"
                               "  %y = mul i32 %x, 3\n"
                               "  ret i32 %y\n"
                               "f:\n"
                               "  ret i32 %b\n"
                               "}\n";

START_TEST(test_shape_equal)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_shape);
    LLVMValueRef sh = fn_named(mod, "sh");
    LLVMValueRef sh2 = fn_named(mod, "sh2");
    LLVMValueRef sh3 = fn_named(mod, "sh3");
    LLVMValueRef c = clone_checked(sh, "sh.v1");
    LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx);
    LLVMValueRef add;

    ck_assert_int_eq(mewe__function_shape_equal(sh, sh), 1);
    ck_assert_int_eq(mewe__function_shape_equal(sh, sh2), 0);
    ck_assert_int_eq(mewe__function_shape_equal(sh, sh3), 0); /* predicate only */
    /* Names do not matter. */
    LLVMSetValueName2(first_inst(c, LLVMAdd, 0), "renamed", 7);
    LLVMSetValueName2(LLVMGetParam(c, 0), "zz", 2);
    ck_assert_int_eq(mewe__function_shape_equal(sh, c), 1);
    ck_assert_uint_eq(mewe__function_shape_hash(sh), mewe__function_shape_hash(c));
    /* Swapping the add's operands makes the clone look like sh2. */
    add = first_inst(c, LLVMAdd, 0);
    LLVMSetOperand(add, 0, LLVMGetParam(c, 1));
    LLVMSetOperand(add, 1, LLVMGetParam(c, 0));
    ck_assert_int_eq(mewe__function_shape_equal(sh, c), 0);
    ck_assert_int_eq(mewe__function_shape_equal(sh2, c), 1);
    ck_assert_uint_eq(mewe__function_shape_hash(sh2), mewe__function_shape_hash(c));

    c = clone_checked(sh, "sh.v2");
    LLVMSetNSW(first_inst(c, LLVMAdd, 0), 0);
    ck_assert_int_eq(mewe__function_shape_equal(sh, c), 0);

    c = clone_checked(sh, "sh.v3");
    LLVMSetAlignment(first_inst(c, LLVMStore, 0), 8);
    ck_assert_int_eq(mewe__function_shape_equal(sh, c), 0);

    c = clone_checked(sh, "sh.v4");
    LLVMSetOperand(first_inst(c, LLVMMul, 0), 1, LLVMConstInt(i32, 4, 0));
    ck_assert_int_eq(mewe__function_shape_equal(sh, c), 0);
    ck_assert_uint_ne(mewe__function_shape_hash(sh), mewe__function_shape_hash(c));

    c = clone_checked(sh, "sh.v5");
    LLVMSetSuccessor(first_inst(c, LLVMBr, 0), 0, LLVMGetLastBasicBlock(c));
    ck_assert_int_eq(mewe__function_shape_equal(sh, c), 0);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

static int count_functions(LLVMModuleRef mod)
{
    int n = 0;

    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        n++;
    return n;
}

static const char ir_broken[] = "define i32 @broken(i32 %x) {\n"
                                "entry:\n"
                                "  br label %b\n"
                                "b:\n"
                                "  %y = add i32 %x, 1\n"
                                "  %p = phi i32 [ %y, %entry ]\n"
                                "  ret i32 %p\n"
                                "}\n";

START_TEST(test_clone_errors)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_calls);
    LLVMValueRef fib = fn_named(mod, "fib");
    LLVMValueRef decl = LLVMAddFunction(mod, "ext", LLVMGlobalGetValueType(fib));
    int before = count_functions(mod);
    LLVMValueRef c = fib;

    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, fib, "ind"), MEWE_EEXIST, "already in use");
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), "'fib'"));
    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, fib, "fptr"), MEWE_EEXIST, "'fib'");
    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, decl, "ext.v1"), MEWE_EINVAL, "'ext'");
    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, fib, ""), MEWE_EINVAL, "no new name");
    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, LLVMGetFirstGlobal(mod), "g.v1"),
                         MEWE_EINVAL, "not a function");
    ck_assert_int_eq(count_functions(mod), before);
    ck_assert_ptr_null(LLVMGetNamedFunction(mod, "ext.v1"));
    assert_module_valid(mod);
    LLVMDisposeModule(mod);

    /* The parser accepts what the verifier rejects: a broken source makes a
     * broken clone, which must be reported and removed. */
    mod = parse_ir(ctx, ir_broken);
    before = count_functions(mod);
    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, fn_named(mod, "broken"), "broken.v1"),
                         MEWE_EVERIFY, "verification");
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), "'broken'"));
    ck_assert_ptr_null(c);
    ck_assert_int_eq(count_functions(mod), before);
    ck_assert_ptr_null(LLVMGetNamedFunction(mod, "broken.v1"));

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* ---- eligibility -------------------------------------------------------- */

static const char ir_eligibility[] =
    "declare i32 @ext(i32)\n"
    "declare void @vext()\n"
    "declare i32 @__gxx_personality_v0(...)\n"
    "declare i32 @__CxxFrameHandler3(...)\n"
    "declare i32 @setjmp(ptr) returns_twice\n"
    "declare i32 @plain(ptr)\n"
    "declare i32 @llvm.sadd.sat.i32(i32, i32)\n"
    "declare void @llvm.dbg.value(metadata, metadata, metadata)\n"
    "@gba = global ptr blockaddress(@ba, %tgt)\n"
    "define i32 @ok(i32 %x) {\n"
    "  %r = add i32 %x, 1\n"
    "  ret i32 %r\n"
    "}\n"
    "define available_externally i32 @ae(i32 %x) {\n"
    "  ret i32 %x\n"
    "}\n"
    "define i32 @eh_invoke(i32 %x) personality ptr @__gxx_personality_v0 {\n"
    "entry:\n"
    "  %r = invoke i32 @ext(i32 %x) to label %cont unwind label %lpad\n"
    "cont:\n"
    "  ret i32 %r\n"
    "lpad:\n"
    "  %lp = landingpad { ptr, i32 } cleanup\n"
    "  resume { ptr, i32 } %lp\n"
    "}\n"
    "define void @eh_landingpad() personality ptr @__gxx_personality_v0 {\n"
    "entry:\n"
    "  ret void\n"
    "lpad:\n"
    "  %lp = landingpad { ptr, i32 } cleanup\n"
    "  unreachable\n"
    "}\n"
    "define void @eh_resume() personality ptr @__gxx_personality_v0 {\n"
    "entry:\n"
    "  ret void\n"
    "dead:\n"
    "  resume { ptr, i32 } poison\n"
    "}\n"
    "define void @eh_catchswitch() personality ptr @__CxxFrameHandler3 {\n"
    "entry:\n"
    "  ret void\n"
    "dispatch:\n"
    "  %cs = catchswitch within none [label %handler] unwind to caller\n"
    "handler:\n"
    "  %cp = catchpad within %cs []\n"
    "  catchret from %cp to label %exit\n"
    "exit:\n"
    "  ret void\n"
    "}\n"
    "define void @eh_cleanuppad() personality ptr @__CxxFrameHandler3 {\n"
    "entry:\n"
    "  ret void\n"
    "cleanup:\n"
    "  %cp = cleanuppad within none []\n"
    "  cleanupret from %cp unwind to caller\n"
    "}\n"
    "define void @eh_callbr() {\n"
    "entry:\n"
    "  callbr void asm \"\", \"!i\"() to label %a [label %b]\n"
    "a:\n"
    "  ret void\n"
    "b:\n"
    "  ret void\n"
    "}\n"
    "define i32 @rt(ptr %p) {\n"
    "  %r = call i32 @setjmp(ptr %p)\n"
    "  ret i32 %r\n"
    "}\n"
    "define i32 @rt_site(ptr %p) {\n"
    "  %r = call i32 @plain(ptr %p) #1\n"
    "  ret i32 %r\n"
    "}\n"
    "define i32 @mt(i32 %x) {\n"
    "  %r = musttail call i32 @ext(i32 %x)\n"
    "  ret i32 %r\n"
    "}\n"
    "define void @nk() #0 {\n"
    "  unreachable\n"
    "}\n"
    "define void @asm() {\n"
    "  call void asm sideeffect \"nop\", \"\"()\n"
    "  ret void\n"
    "}\n"
    "define i32 @va(i32 %n, ...) {\n"
    "  ret i32 %n\n"
    "}\n"
    "define void @ib(ptr %p) {\n"
    "entry:\n"
    "  indirectbr ptr %p, [label %a, label %b]\n"
    "a:\n"
    "  ret void\n"
    "b:\n"
    "  ret void\n"
    "}\n"
    "define void @ba() {\n"
    "entry:\n"
    "  br label %tgt\n"
    "tgt:\n"
    "  ret void\n"
    "}\n"
    "define i32 @dbg(i32 %x) !dbg !1 {\n"
    "  call void @llvm.dbg.value(metadata i32 %x, metadata !0, metadata !DIExpression()),"
    " !dbg !5\n"
    "  %r = mul i32 %x, %x\n"
    "  ret i32 %r\n"
    "}\n"
    "attributes #0 = { naked noinline }\n"
    "attributes #1 = { returns_twice }\n"
    "!llvm.dbg.cu = !{!2}\n"
    "!llvm.module.flags = !{!4}\n"
    "!0 = !DILocalVariable(name: \"x\", scope: !1)\n"
    "!1 = distinct !DISubprogram(name: \"dbg\", unit: !2, spFlags: DISPFlagDefinition)\n"
    "!2 = distinct !DICompileUnit(language: DW_LANG_C11, file: !3)\n"
    "!3 = !DIFile(filename: \"t.c\", directory: \"/\")\n"
    "!4 = !{i32 2, !\"Debug Info Version\", i32 3}\n"
    "!5 = !DILocation(line: 1, scope: !1)\n";

static const struct {
    const char *fn;
    const char *reason;
} eligibility_cases[] = {
    {"ok", NULL},
    {"dbg", NULL},
    {"ext", "declaration"},
    {"vext", "declaration"},
    {"llvm.sadd.sat.i32", "intrinsic"},
    {"llvm.dbg.value", "intrinsic"},
    {"ae", "available_externally"},
    {"eh_invoke", "exception handling"},
    {"eh_landingpad", "exception handling"},
    {"eh_resume", "exception handling"},
    {"eh_catchswitch", "exception handling"},
    {"eh_cleanuppad", "exception handling"},
    {"eh_callbr", "exception handling"},
    {"rt", "returns_twice call"},
    {"rt_site", "returns_twice call"},
    {"mt", "musttail call"},
    {"nk", "naked"},
    {"asm", "inline asm"},
    {"va", "variadic"},
    /* No block address of ib exists: whatever it jumps to is not one of its blocks. */
    {"ib", NULL},
    {"ba", "block address escapes the function"},
};

START_TEST(test_eligibility_reasons)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_eligibility);
    size_t n = sizeof eligibility_cases / sizeof eligibility_cases[0];

    assert_module_valid(mod);
    for (size_t i = 0; i < n; i++) {
        LLVMValueRef fn = fn_named(mod, eligibility_cases[i].fn);
        const char *got = mewe__function_ineligible_reason(fn);
        const char *want = eligibility_cases[i].reason;

        if (!want)
            ck_assert_msg(got == NULL, "%s: unexpected reason %s", eligibility_cases[i].fn, got);
        else
            ck_assert_msg(got && strcmp(got, want) == 0, "%s: got %s, want %s",
                          eligibility_cases[i].fn, got ? got : "(eligible)", want);
    }
    ck_assert_uint_eq(mewe__function_instruction_count(fn_named(mod, "ok")), 2);
    ck_assert_uint_eq(mewe__function_instruction_count(fn_named(mod, "ib")), 3);
    ck_assert_uint_eq(mewe__function_instruction_count(fn_named(mod, "ext")), 0);
    /* The debug intrinsic call is not counted and not cloned. */
    ck_assert_uint_eq(mewe__function_instruction_count(fn_named(mod, "dbg")), 2);
    ck_assert_int_eq(clone_all(mod), 3);

    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* ---- computed goto: block addresses and label tables -------------------- */

static const char ir_labels[] =
    "declare i32 @plain(ptr)\n"
    "@tab = internal constant [2 x ptr] [ptr blockaddress(@lt_table, %a), "
    "ptr blockaddress(@lt_table, %b)]\n"
    "@offs = internal constant [2 x i32] [i32 0, i32 sub (i32 ptrtoint "
    "(ptr blockaddress(@lt_offsets, %b) to i32), i32 ptrtoint (ptr blockaddress(@lt_offsets, %a) "
    "to i32))]\n"
    "@inner = internal constant [2 x ptr] [ptr blockaddress(@lt_nested, %a), "
    "ptr blockaddress(@lt_nested, %b)]\n"
    "@outer = internal constant [1 x ptr] [ptr @inner]\n"
    "@shared = internal constant [1 x ptr] [ptr blockaddress(@lt_shared, %a)]\n"
    "@rw = internal global [1 x ptr] [ptr blockaddress(@lt_written, %a)]\n"
    "@ext_tab = global [1 x ptr] [ptr blockaddress(@lt_extern, %a)]\n"
    "@tabtab = internal constant [1 x ptr] [ptr blockaddress(@lt_tab_escapes, %a)]\n"
    "@sink = global ptr null\n"
    /* A global table, read through an instruction and through a constant expression. */
    "define i32 @lt_table(i32 %i) {\n"
    "entry:\n"
    "  %p = getelementptr inbounds [2 x ptr], ptr @tab, i32 0, i32 %i\n"
    "  %t = load ptr, ptr %p\n"
    "  indirectbr ptr %t, [label %a, label %b]\n"
    "a:\n"
    "  ret i32 1\n"
    "b:\n"
    "  %c = load ptr, ptr getelementptr inbounds ([2 x ptr], ptr @tab, i32 0, i32 1)\n"
    "  %z = icmp eq ptr %c, blockaddress(@lt_table, %b)\n"
    "  %r = zext i1 %z to i32\n"
    "  ret i32 %r\n"
    "}\n"
    /* A table in the function's own stack. */
    "define i32 @lt_local(i1 %f) {\n"
    "entry:\n"
    "  %slot = alloca [2 x ptr]\n"
    "  store ptr blockaddress(@lt_local, %a), ptr %slot\n"
    "  %s1 = getelementptr inbounds ptr, ptr %slot, i32 1\n"
    "  store ptr blockaddress(@lt_local, %b), ptr %s1\n"
    "  %q = select i1 %f, ptr %slot, ptr %s1\n"
    "  %t = load ptr, ptr %q\n"
    "  indirectbr ptr %t, [label %a, label %b]\n"
    "a:\n"
    "  ret i32 1\n"
    "b:\n"
    "  ret i32 2\n"
    "}\n"
    /* Offsets from a base label. */
    "define i32 @lt_offsets(i32 %i) {\n"
    "entry:\n"
    "  %p = getelementptr inbounds [2 x i32], ptr @offs, i32 0, i32 %i\n"
    "  %o = load i32, ptr %p\n"
    "  %t = getelementptr inbounds i8, ptr blockaddress(@lt_offsets, %a), i32 %o\n"
    "  indirectbr ptr %t, [label %a, label %b]\n"
    "a:\n"
    "  ret i32 1\n"
    "b:\n"
    "  ret i32 2\n"
    "}\n"
    /* A table of tables. */
    "define i32 @lt_nested(i32 %i) {\n"
    "entry:\n"
    "  %tp = load ptr, ptr @outer\n"
    "  %p = getelementptr inbounds [2 x ptr], ptr %tp, i32 0, i32 %i\n"
    "  %t = load ptr, ptr %p\n"
    "  indirectbr ptr %t, [label %a, label %b]\n"
    "a:\n"
    "  ret i32 1\n"
    "b:\n"
    "  ret i32 2\n"
    "}\n"
    /* Addresses that leave an invocation. */
    "define ptr @lt_ret() {\n"
    "entry:\n"
    "  br label %a\n"
    "a:\n"
    "  ret ptr blockaddress(@lt_ret, %a)\n"
    "}\n"
    "define void @lt_call() {\n"
    "entry:\n"
    "  br label %a\n"
    "a:\n"
    "  %r = call i32 @plain(ptr blockaddress(@lt_call, %a))\n"
    "  ret void\n"
    "}\n"
    "define void @lt_store() {\n"
    "entry:\n"
    "  br label %a\n"
    "a:\n"
    "  store ptr blockaddress(@lt_store, %a), ptr @sink\n"
    "  ret void\n"
    "}\n"
    "define void @lt_slot_escapes() {\n"
    "entry:\n"
    "  %slot = alloca ptr\n"
    "  store ptr blockaddress(@lt_slot_escapes, %a), ptr %slot\n"
    "  %r = call i32 @plain(ptr %slot)\n"
    "  %t = load ptr, ptr %slot\n"
    "  indirectbr ptr %t, [label %a]\n"
    "a:\n"
    "  ret void\n"
    "}\n"
    "define void @lt_extern() {\n"
    "entry:\n"
    "  %t = load ptr, ptr @ext_tab\n"
    "  indirectbr ptr %t, [label %a]\n"
    "a:\n"
    "  ret void\n"
    "}\n"
    "define void @lt_shared() {\n"
    "entry:\n"
    "  %t = load ptr, ptr @shared\n"
    "  indirectbr ptr %t, [label %a]\n"
    "a:\n"
    "  ret void\n"
    "}\n"
    "define ptr @lt_shared_peek() {\n"
    "  %t = load ptr, ptr @shared\n"
    "  ret ptr %t\n"
    "}\n"
    "define void @lt_written() {\n"
    "entry:\n"
    "  store ptr null, ptr @rw\n"
    "  %t = load ptr, ptr @rw\n"
    "  indirectbr ptr %t, [label %a]\n"
    "a:\n"
    "  ret void\n"
    "}\n"
    "define void @lt_tab_escapes() {\n"
    "entry:\n"
    "  store ptr @tabtab, ptr @sink\n"
    "  %t = load ptr, ptr @tabtab\n"
    "  indirectbr ptr %t, [label %a]\n"
    "a:\n"
    "  ret void\n"
    "}\n";

static const struct {
    const char *fn;
    const char *reason;
    size_t tables;
} label_cases[] = {
    {"lt_table", NULL, 1},
    {"lt_local", NULL, 0},
    {"lt_offsets", NULL, 1},
    {"lt_nested", NULL, 2},
    {"lt_shared_peek", NULL, 0},
    {"lt_ret", "block address escapes the function", 0},
    {"lt_call", "block address escapes the function", 0},
    {"lt_store", "block address escapes the function", 0},
    {"lt_slot_escapes", "block address escapes the function", 0},
    {"lt_extern", "block address escapes the function", 0},
    {"lt_shared", "block address escapes the function", 0},
    {"lt_written", "label table written at run time", 0},
    {"lt_tab_escapes", "block address escapes the function", 0},
};

static size_t global_count(LLVMModuleRef mod)
{
    size_t n = 0;
    for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g))
        n++;
    return n;
}

/* Counts the block addresses reachable from constant k (through label tables too) that name
 * `fn`; fails on one that names `banned`. */
static unsigned labels_in(LLVMValueRef k, LLVMValueRef fn, LLVMValueRef banned, unsigned depth)
{
    unsigned n = 0;
    ck_assert_uint_lt(depth, 8);
    if (LLVMGetValueKind(k) == LLVMBlockAddressValueKind) {
        LLVMValueRef of = LLVMGetBlockAddressFunction(k);
        ck_assert_msg(of != banned, "a block address still names the source");
        ck_assert_ptr_eq(LLVMGetBasicBlockParent(LLVMGetBlockAddressBasicBlock(k)), of);
        return of == fn;
    }
    if (LLVMIsAGlobalVariable(k))
        return LLVMGetInitializer(k) ? labels_in(LLVMGetInitializer(k), fn, banned, depth + 1) : 0;
    if (!LLVMIsAConstant(k) || LLVMIsAGlobalValue(k))
        return 0;
    for (int i = 0; i < LLVMGetNumOperands(k); i++) {
        LLVMValueRef op = LLVMGetOperand(k, (unsigned)i);
        if (op && !LLVMValueIsBasicBlock(op))
            n += labels_in(op, fn, banned, depth + 1);
    }
    return n;
}

/* Block addresses that fn's instructions reach, all of them fn's own (none of `banned`). */
static unsigned own_labels(LLVMValueRef fn, LLVMValueRef banned)
{
    unsigned n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            for (int k = 0; k < LLVMGetNumOperands(i); k++) {
                LLVMValueRef op = LLVMGetOperand(i, (unsigned)k);
                if (op && !LLVMValueIsBasicBlock(op))
                    n += labels_in(op, fn, banned, 0);
            }
        }
    }
    return n;
}

START_TEST(test_labels_eligibility)
{
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_labels);

    assert_module_valid(mod);
    for (size_t i = 0; i < sizeof label_cases / sizeof *label_cases; i++) {
        LLVMValueRef fn = fn_named(mod, label_cases[i].fn);
        const char *got = mewe__function_ineligible_reason(fn);
        const char *want = label_cases[i].reason;
        mewe__labels l = {0};

        if (!want)
            ck_assert_msg(!got, "%s: unexpected reason %s", label_cases[i].fn, got);
        else
            ck_assert_msg(got && strcmp(got, want) == 0, "%s: got %s, want %s", label_cases[i].fn,
                          got ? got : "(eligible)", want);
        if (want)
            continue;
        ck_assert_ptr_null(mewe__labels_check(fn, &l));
        ck_assert_uint_eq(l.count, label_cases[i].tables);
        mewe__labels_fini(&l);
    }
    /* A clone of an ineligible function would share its addresses: refused, with the why. */
    LLVMValueRef c;
    size_t before = global_count(mod);
    ck_assert_mewe_fails(mewe__function_clone(&c, tctx, fn_named(mod, "lt_shared"), "c"),
                         MEWE_EINVAL, "block address escapes the function");
    ck_assert_ptr_null(c);
    ck_assert_ptr_null(LLVMGetNamedFunction(mod, "c"));
    ck_assert_uint_eq(global_count(mod), before);
    assert_module_valid(mod);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* A clone jumps to its own blocks: its block addresses, and its copies of the label tables,
 * name it; the source keeps its own; deleting the clone deletes its copies; deleting the
 * source's body deletes the tables only it used. */
START_TEST(test_labels_clone)
{
    static const char *const fns[] = {"lt_table", "lt_local", "lt_offsets", "lt_nested"};
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = parse_ir(ctx, ir_labels);

    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        LLVMValueRef fn = fn_named(mod, fns[i]);
        mewe__labels l = {0};
        size_t before = global_count(mod);
        unsigned labels = own_labels(fn, NULL);

        ck_assert_uint_gt(labels, 0);
        ck_assert_ptr_null(mewe__labels_check(fn, &l));
        LLVMValueRef c = clone_checked(fn, "lt.clone");
        ck_assert_uint_eq(global_count(mod), before + l.count);
        ck_assert_uint_eq(own_labels(c, fn), labels);
        ck_assert_uint_eq(own_labels(fn, c), labels);
        /* The clone passes the check in turn, with tables of its own. */
        mewe__labels lc = {0};
        ck_assert_ptr_null(mewe__labels_check(c, &lc));
        ck_assert_uint_eq(lc.count, l.count);
        for (size_t k = 0; k < l.count; k++)
            for (size_t j = 0; j < lc.count; j++)
                ck_assert_ptr_ne(l.tables[k], lc.tables[j]);
        /* A clone of the clone is the same shape too. */
        LLVMValueRef cc = clone_checked(c, "lt.clone2");
        ck_assert_int_eq(mewe__function_shape_equal(cc, fn), 1);
        mewe__function_delete(cc);
        mewe__function_delete(c);
        assert_module_valid(mod);
        ck_assert_uint_eq(global_count(mod), before);
        for (size_t k = 0; k < l.count; k++)
            ck_assert_ptr_nonnull(LLVMGetInitializer(l.tables[k]));
        mewe__labels_fini(&lc);
        mewe__labels_fini(&l);
    }
    /* The calling layout's variant 0: a copy, then the source's body goes, tables too. */
    LLVMValueRef nested = fn_named(mod, "lt_nested");
    size_t before = global_count(mod);
    LLVMValueRef keep = clone_checked(nested, "lt.keep");
    mewe__function_delete_body(nested);
    ck_assert(LLVMIsDeclaration(nested));
    ck_assert_ptr_null(LLVMGetNamedGlobal(mod, "outer"));
    ck_assert_ptr_null(LLVMGetNamedGlobal(mod, "inner"));
    ck_assert_uint_eq(global_count(mod), before);
    ck_assert_uint_eq(own_labels(keep, NULL), 2);
    assert_module_valid(mod);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* ---- C compiled by clang-19 --------------------------------------------- */

static const char c_source[] =
    "typedef int v4si __attribute__((vector_size(16)));\n"
    "struct big { int a[32]; };\n"
    "extern void hook(int);\n"
    "extern void die(const char *) __attribute__((noreturn));\n"
    "int table[64];\n"
    "int sum_loop(const int *p, int n) {\n"
    "    int s = 0;\n"
    "    for (int i = 0; i < n; i++) s += p[i] * 3;\n"
    "    return s;\n"
    "}\n"
    "int classify(int x) {\n"
    "    switch (x) {\n"
    "    case 0: hook(1); return 3;\n"
    "    case 4: hook(7); break;\n"
    "    case 9: hook(2); return 8;\n"
    "    case 17: hook(x); break;\n"
    "    default: return -1;\n"
    "    }\n"
    "    return x + 1;\n"
    "}\n"
    "int pick(int a, int b, int c) { return a < b ? c : b * a; }\n"
    "int atomics(int *p, int v) {\n"
    "    __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);\n"
    "    int e = 0;\n"
    "    __atomic_compare_exchange_n(p, &e, v, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);\n"
    "    __atomic_thread_fence(__ATOMIC_SEQ_CST);\n"
    "    return __atomic_load_n(p, __ATOMIC_ACQUIRE) + e;\n"
    "}\n"
    "v4si vmix(v4si a, v4si b) { return __builtin_shufflevector(a + b, a, 3, 2, 5, 0); }\n"
    "int ovf(int a, int b, long long c, long long *out) {\n"
    "    int r;\n"
    "    if (__builtin_add_overflow(a, b, &r)) return -1;\n"
    "    if (__builtin_mul_overflow(c, (long long)b, out)) return -2;\n"
    "    return r;\n"
    "}\n"
    "void copy_big(struct big *d, const struct big *s, int k) {\n"
    "    struct big tmp;\n"
    "    __builtin_memcpy(&tmp, s, sizeof tmp);\n"
    "    tmp.a[k & 31]++;\n"
    "    __builtin_memcpy(d, &tmp, sizeof tmp);\n"
    "}\n"
    "int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n"
    "int apply(int (*f)(int), int x) { return f(x) + f(x + 1); }\n"
    "int checked(int x) { if (x < 0) die(\"neg\"); return x * 2; }\n"
    "unsigned hist(const unsigned char *s, int n) {\n"
    "    unsigned h = 0;\n"
    "    for (int i = 0; i < n; i++) { table[s[i] & 63]++; h = h * 31 + s[i]; }\n"
    "    return h;\n"
    "}\n"
    "int nested(int n, int m) {\n"
    "    int t = 0;\n"
    "    for (int i = 0; i < n; i++)\n"
    "        for (int j = 0; j < m; j++) t += (i ^ j) ? i : j;\n"
    "    return t;\n"
    "}\n"
    "static int helper(int x) { hook(x); return x * 7; }\n"
    "int use_helper(int x) { return helper(x) + helper(x + 1); }\n"
    "double fsum(const double *p, int n) {\n"
    "    double s = 0; for (int i = 0; i < n; i++) s += p[i]; return s;\n"
    "}\n";

static int run_cmd(const char *cmd)
{
    return system(cmd);
}

/* Write source to dir/name, run cmd_fmt (given compiler, flags, source and
 * output paths) and load the bitcode it produced. */
static LLVMModuleRef compile_to_module(LLVMContextRef ctx, const char *dir, const char *name,
                                       const char *source, const char *cmd_fmt,
                                       const char *compiler, const char *flags)
{
    char src[512], out[512], cmd[2048];
    LLVMMemoryBufferRef buf = NULL;
    LLVMModuleRef mod = NULL;
    char *msg = NULL;
    FILE *f;

    snprintf(src, sizeof src, "%s/%s", dir, name);
    snprintf(out, sizeof out, "%s/out.bc", dir);
    f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs(source, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, cmd_fmt, compiler, flags, src, out);
    ck_assert_msg(run_cmd(cmd) == 0, "compile failed: %s", cmd);
    if (LLVMCreateMemoryBufferWithContentsOfFile(out, &buf, &msg))
        ck_abort_msg("cannot read %s: %s", out, msg);
    if (LLVMParseIRInContext(ctx, buf, &mod, &msg))
        ck_abort_msg("bitcode does not load: %s", msg);
    unlink(src);
    unlink(out);
    rmdir(dir);
    return mod;
}

static LLVMModuleRef compile_c(LLVMContextRef ctx, const char *dir, const char *flags)
{
    return compile_to_module(ctx, dir, "t.c", c_source,
                             "'%s' --target=wasm32-wasi -msimd128 -O2 %s -emit-llvm -c '%s'"
                             " -o '%s'",
                             MEWE_CLANG, flags);
}

static int module_has_opcode(LLVMModuleRef mod, LLVMOpcode op)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        if (first_inst(f, op, 0))
            return 1;
    }
    return 0;
}

static int module_calls_prefix(LLVMModuleRef mod, const char *prefix)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        size_t len = 0;
        const char *name = LLVMGetValueName2(f, &len);
        if (strncmp(name, prefix, strlen(prefix)) == 0 && LLVMGetFirstUse(f))
            return 1;
    }
    return 0;
}

static int module_has_vector_inst(LLVMModuleRef mod)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
                if (LLVMGetTypeKind(LLVMTypeOf(i)) == LLVMVectorTypeKind)
                    return 1;
            }
        }
    }
    return 0;
}

/* Make sure the compiled code really exercises what the clone must handle. */
static void assert_features(LLVMModuleRef mod)
{
    static const LLVMOpcode ops[] = {
        LLVMPHI,   LLVMSwitch,        LLVMSelect,        LLVMAtomicRMW,   LLVMAtomicCmpXchg,
        LLVMFence, LLVMShuffleVector, LLVMGetElementPtr, LLVMUnreachable, LLVMExtractValue,
    };

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        ck_assert_msg(module_has_opcode(mod, ops[i]), "compiled C lacks opcode %d", ops[i]);
    ck_assert(module_has_vector_inst(mod));
    ck_assert(module_calls_prefix(mod, "llvm.memcpy."));
    ck_assert(module_calls_prefix(mod, "llvm.sadd.with.overflow."));
    ck_assert(module_calls_prefix(mod, "llvm.smul.with.overflow."));
    ck_assert(module_calls_prefix(mod, "llvm.vector.reduce."));
    ck_assert(module_calls_prefix(mod, "llvm.lifetime."));
    ck_assert_ptr_nonnull(LLVMGetFirstUse(fn_named(mod, "fib")));
}

static int have_program(const char *path)
{
    char cmd[600];

    snprintf(cmd, sizeof cmd, "command -v '%s' >/dev/null 2>&1", path);
    return run_cmd(cmd) == 0;
}

static void check_compiled(const char *extra, int debug, int old_debug_format)
{
    char dir[] = "/tmp/mewe-test-clone-XXXXXX";
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMValueRef fib, fibc, call;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ctx = LLVMContextCreate();
    mod = compile_c(ctx, dir, extra);
    if (old_debug_format)
        LLVMSetIsNewDbgInfoFormat(mod, 0);
    assert_module_valid(mod);
    assert_features(mod);
    fib = fn_named(mod, "fib");
    if (debug) {
        ck_assert_ptr_nonnull(LLVMGetSubprogram(fib));
        ck_assert_ptr_nonnull(LLVMInstructionGetDebugLoc(first_inst(fib, LLVMCall, 0)));
        /* Only the intrinsic form shows debug calls as instructions. */
        ck_assert_int_eq(raw_instruction_count(fib) > mewe__function_instruction_count(fib),
                         old_debug_format);
    }
    /* The module's size is the sum of its functions' sizes: the size budget compares them. */
    size_t sum = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        sum += mewe__function_instruction_count(f);
    ck_assert_uint_gt(sum, 0);
    ck_assert_uint_eq(mewe__module_instruction_count(mod), sum);
    ck_assert_int_ge(clone_all(mod), 14);
    fibc = LLVMGetNamedFunction(mod, "fib.again");
    ck_assert_ptr_null(fibc);
    fibc = clone_checked(fib, "fib.again");
    for (unsigned k = 0; (call = first_inst(fibc, LLVMCall, k)) != NULL; k++) {
        LLVMValueRef callee = LLVMGetCalledValue(call);
        ck_assert_ptr_ne(callee, fibc);
    }
    ck_assert_ptr_eq(LLVMGetCalledValue(first_inst(fibc, LLVMCall, 0)), fib);
    assert_module_valid(mod);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}

START_TEST(test_clone_compiled_c)
{
    check_compiled("", 0, 0);
}
END_TEST

START_TEST(test_clone_compiled_c_debug)
{
    check_compiled("-g", 1, 0);
}
END_TEST

START_TEST(test_clone_compiled_c_debug_intrinsics)
{
    check_compiled("-g", 1, 1);
}
END_TEST

/* ---- Rust compiled by rustc 1.63 (LLVM 14 bitcode) ----------------------- */

static const char rust_source[] =
    "use std::sync::atomic::{AtomicU32, Ordering};\n"
    "pub static COUNTER: AtomicU32 = AtomicU32::new(0);\n"
    "pub trait Shape { fn area(&self) -> u32; }\n"
    "pub struct Sq(pub u32);\n"
    "impl Shape for Sq { fn area(&self) -> u32 { self.0.wrapping_mul(self.0) } }\n"
    "pub fn r_sum(s: &[u32]) -> u32 {\n"
    "    s.iter().map(|v| v.wrapping_mul(3)).fold(0u32, |a, b| a.wrapping_add(b))\n"
    "}\n"
    "pub fn r_checked(a: u32, b: u32) -> u32 { a.checked_mul(b).unwrap_or(7) }\n"
    "pub fn r_index(v: &[u8], i: usize) -> u8 { v[i] }\n"
    "pub fn r_fib(n: u32) -> u32 { if n < 2 { n } else { r_fib(n - 1) + r_fib(n - 2) } }\n"
    "pub fn r_match(x: u32) -> u32 {\n"
    "    match x { 0 => 5, 1 | 2 => 9, 7 => x * 3, 100 => r_fib(x), 300 => 1, _ => x + 1 }\n"
    "}\n"
    "pub fn r_atomic(v: u32) -> u32 {\n"
    "    COUNTER.fetch_add(v, Ordering::SeqCst);\n"
    "    let _ = COUNTER.compare_exchange(v, 0, Ordering::AcqRel, Ordering::Acquire);\n"
    "    COUNTER.load(Ordering::Acquire)\n"
    "}\n"
    "pub fn r_dyn(s: &dyn Shape) -> u32 { s.area() + 1 }\n"
    "pub fn r_apply(f: fn(u32) -> u32, x: u32) -> u32 { f(x) + f(x + 1) }\n"
    "pub fn r_wide(a: u128, b: u128) -> u128 { a.wrapping_mul(b) ^ (a >> 3) }\n"
    "pub fn r_fsum(v: &[f32]) -> f32 { v.iter().sum() }\n"
    "pub fn r_opt(v: Option<u32>) -> u32 { v.map(|x| x + 1).unwrap_or_default() }\n"
    "pub fn r_vec(n: usize, f: fn(usize) -> usize) -> usize {\n"
    "    let v: Vec<usize> = (0..n).map(f).collect();\n"
    "    v.iter().sum()\n"
    "}\n"
    "pub fn r_str(s: &str) -> usize { s.bytes().filter(|b| b.is_ascii_digit()).count() }\n";

static int count_reason(LLVMModuleRef mod, const char *reason)
{
    int n = 0;

    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        const char *why = mewe__function_ineligible_reason(f);
        n += why && strcmp(why, reason) == 0;
    }
    return n;
}

/* _i selects a target/flag combination; unwinding on x86_64 brings invokes. */
START_TEST(test_clone_compiled_rust)
{
    static const char *const flags[] = {
        "--target=wasm32-wasi -C opt-level=2",
        "--target=wasm32-wasi -C opt-level=2 -C debuginfo=2",
        "--target=x86_64-unknown-linux-gnu -C opt-level=2 -C panic=unwind",
    };
    char dir[] = "/tmp/mewe-test-clone-XXXXXX";
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMValueRef fib, fibc;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ctx = LLVMContextCreate();
    mod = compile_to_module(ctx, dir, "lib.rs", rust_source,
                            "'%s' --crate-type=lib --crate-name=r -C codegen-units=1 %s"
                            " --emit=llvm-bc '%s' -o '%s' 2>/dev/null",
                            MEWE_RUSTC, flags[_i]);
    assert_module_valid(mod);
    fib = LLVMGetFirstFunction(mod);
    while (fib && !strstr(LLVMGetValueName(fib), "r_fib"))
        fib = LLVMGetNextFunction(fib);
    ck_assert_ptr_nonnull(fib);
    ck_assert(module_has_opcode(mod, LLVMSwitch));
    ck_assert(module_has_opcode(mod, LLVMAtomicRMW));
    ck_assert(module_has_opcode(mod, LLVMAtomicCmpXchg));
    ck_assert(module_has_opcode(mod, LLVMUnreachable));
    if (_i == 1)
        ck_assert_ptr_nonnull(LLVMGetSubprogram(fib));
    if (_i == 2)
        ck_assert_int_ge(count_reason(mod, "exception handling"), 1);
    ck_assert_int_ge(clone_all(mod), 12);
    fibc = clone_checked(fib, "r_fib.again");
    ck_assert_ptr_eq(LLVMGetCalledValue(first_inst(fibc, LLVMCall, 0)), fib);
    assert_module_valid(mod);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
}
END_TEST

/* ---- runner ------------------------------------------------------------- */

static Suite *clone_suite(void)
{
    Suite *s = suite_create("clone");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ptrmap);
    tcase_add_test(tc, test_clone_phi_and_forward_refs);
    tcase_add_test(tc, test_clone_switch_select);
    tcase_add_test(tc, test_clone_atomics);
    tcase_add_test(tc, test_clone_vectors);
    tcase_add_test(tc, test_clone_overflow_and_unreachable);
    tcase_add_test(tc, test_clone_memcpy_lifetime);
    tcase_add_test(tc, test_clone_recursion);
    tcase_add_test(tc, test_clone_indirect_calls);
    tcase_add_test(tc, test_clone_attributes_and_properties);
    tcase_add_test(tc, test_clone_rust_like);
    tcase_add_loop_test(tc, test_clone_strips_debug_info, 0, 2);
    tcase_add_test(tc, test_shape_equal);
    tcase_add_test(tc, test_clone_errors);
    tcase_add_test(tc, test_eligibility_reasons);
    tcase_add_test(tc, test_labels_eligibility);
    tcase_add_test(tc, test_labels_clone);
    if (have_program(MEWE_CLANG)) {
        tcase_add_test(tc, test_clone_compiled_c);
        tcase_add_test(tc, test_clone_compiled_c_debug);
        tcase_add_test(tc, test_clone_compiled_c_debug_intrinsics);
    } else {
        test_skip(3, "%s not found: clone tests on compiled C not run", MEWE_CLANG);
    }
    if (have_program(MEWE_RUSTC))
        tcase_add_loop_test(tc, test_clone_compiled_rust, 0, 3);
    else
        test_skip(3, "%s not found: clone tests on compiled Rust not run", MEWE_RUSTC);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(clone_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return test_exit_status(failed);
}
