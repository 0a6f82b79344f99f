namespace AotVit.Bench;
internal static class Report { public static int Write(Args a) => 0; }
