// VectorOps: one static-abstract interface over Vector512/256/128<float> (and float, one lane), so that element-wise maths (exp, erf,
// activations) and the simple drivers are written once and instantiated per width by the JIT/ILC
// (struct type arguments are specialised, and every member below inlines to one or two instructions).
// Not used by the GEMM microkernels: their register tiling differs per width, see Gemm.Vector512.cs.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotVit.Runtime.Kernels.Common;

/// <summary>The vector operations the width-generic kernels need. <typeparamref name="TVec"/> is VectorNNN&lt;float&gt;.</summary>
internal unsafe interface IVectorOps<TVec> where TVec : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }
    static abstract bool IsHardwareAccelerated { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Create(float value);
    static abstract TVec Load(float* source);
    static abstract void Store(TVec value, float* destination);
    static abstract TVec Add(TVec left, TVec right);
    static abstract TVec Subtract(TVec left, TVec right);
    static abstract TVec Multiply(TVec left, TVec right);
    static abstract TVec Divide(TVec left, TVec right);
    /// <summary>
    /// Lane-wise min / max with the hardware's semantics (x86 minps/maxps): when a lane of either operand is NaN the
    /// result is <paramref name="right"/>'s lane, so put the value whose NaN must propagate on the right. (.NET 10's
    /// IEEE Vector512.Min/Max costs vrangeps + 2 vfixupimmps per call once the constant operand sits in a register.)
    /// </summary>
    static abstract TVec Min(TVec left, TVec right);
    /// <inheritdoc cref="Min"/>
    static abstract TVec Max(TVec left, TVec right);
    /// <summary>left·right + addend, fused when the hardware has FMA.</summary>
    static abstract TVec MultiplyAdd(TVec left, TVec right, TVec addend);
    static abstract TVec Abs(TVec value);
    static abstract TVec CopySign(TVec magnitude, TVec sign);
    /// <summary>Round to nearest, ties to even.</summary>
    static abstract TVec Round(TVec value);
    /// <summary>2^n for integral n in [−126, 127].</summary>
    static abstract TVec Pow2(TVec integral);
    /// <summary>All-ones lanes where left &lt; right.</summary>
    static abstract TVec LessThan(TVec left, TVec right);
    /// <summary>mask ? ifTrue : ifFalse, lane by lane.</summary>
    static abstract TVec Select(TVec mask, TVec ifTrue, TVec ifFalse);
    static abstract float Sum(TVec value);
    static abstract float MaxAcross(TVec value);
}

internal unsafe struct Vector512Ops : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> left, Vector512<float> right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> left, Vector512<float> right) => Vector512.MinNative(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.MaxNative(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) => Vector512.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> value) => Vector512.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> CopySign(Vector512<float> magnitude, Vector512<float> sign) => Vector512.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> value) => Vector512.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Pow2(Vector512<float> integral) => Vector512.ShiftLeft(Vector512.ConvertToInt32Native(integral) + Vector512.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LessThan(Vector512<float> left, Vector512<float> right) => Vector512.LessThan(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) => Vector512.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector512<float> value) => Vector256Ops.MaxAcross(Vector256.Max(value.GetLower(), value.GetUpper()));
}

internal unsafe struct Vector256Ops : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> left, Vector256<float> right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> left, Vector256<float> right) => Vector256.MinNative(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.MaxNative(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) => Vector256.MultiplyAddEstimate(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> value) => Vector256.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> CopySign(Vector256<float> magnitude, Vector256<float> sign) => Vector256.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> value) => Vector256.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Pow2(Vector256<float> integral) => Vector256.ShiftLeft(Vector256.ConvertToInt32Native(integral) + Vector256.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LessThan(Vector256<float> left, Vector256<float> right) => Vector256.LessThan(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector256<float> value) => Vector128Ops.MaxAcross(Vector128.Max(value.GetLower(), value.GetUpper()));
}

internal unsafe struct Vector128Ops : IVectorOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Create(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* source) => Vector128.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> left, Vector128<float> right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> left, Vector128<float> right) => Vector128.MinNative(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.MaxNative(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) => Vector128.MultiplyAddEstimate(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> value) => Vector128.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> CopySign(Vector128<float> magnitude, Vector128<float> sign) => Vector128.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> value) => Vector128.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Pow2(Vector128<float> integral) => Vector128.ShiftLeft(Vector128.ConvertToInt32Native(integral) + Vector128.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LessThan(Vector128<float> left, Vector128<float> right) => Vector128.LessThan(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) => Vector128.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> value) =>
        MathF.Max(MathF.Max(value.GetElement(0), value.GetElement(1)), MathF.Max(value.GetElement(2), value.GetElement(3)));
}

/// <summary>One float as a one-lane "vector": the width-generic kernels' path without SIMD.</summary>
internal unsafe struct ScalarOps : IVectorOps<float>
{
    public static int Count => 1;
    public static bool IsHardwareAccelerated => true;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Create(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float* source) => *source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, float* destination) => *destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float left, float right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float left, float right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float left, float right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Divide(float left, float right) => left / right;
    // minps/maxps semantics: right when either is NaN
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Min(float left, float right) => left < right ? left : right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float left, float right) => left > right ? left : right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float left, float right, float addend) => left * right + addend;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Abs(float value) => MathF.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float CopySign(float magnitude, float sign) => MathF.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Round(float value) => MathF.Round(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Pow2(float integral) => BitConverter.Int32BitsToSingle(((int)integral + 127) << 23);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float LessThan(float left, float right) => left < right ? BitConverter.Int32BitsToSingle(-1) : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Select(float mask, float ifTrue, float ifFalse) => BitConverter.SingleToInt32Bits(mask) != 0 ? ifTrue : ifFalse;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(float value) => value;
}
