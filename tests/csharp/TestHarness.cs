// The tiny test runner shared by the core's unit tests (CoreTests.cs) and the native interop tests
// (tests/native/InteropTests.cs); each program's Main calls TestHarness.Run. Every public static
// parameterless void method of a class whose name ends in "Tests" is a test. One line per test, then
// "N passed, N failed"; the exit code is 1 when any failed (or none ran), so a caller cannot mistake an
// empty run for success. Arguments restrict the run to tests whose "Class.Method" name contains one of them.

using System;
using System.Collections.Generic;
using System.Reflection;

namespace WinBits.Testing
{
    public class AssertionFailed : Exception
    {
        public AssertionFailed(string message) : base(message) { }
    }

    public static class Assert
    {
        // Strict: a boxed int never equals a boxed long, so the result's number types are checked too.
        public static void Equal(object expected, object actual, string what)
        {
            if (!object.Equals(expected, actual))
                throw new AssertionFailed(
                    string.Format("{0}: expected {1}, got {2}", what, Show(expected), Show(actual)));
        }

        // By value: the core returns ints and longs (JSON numbers) and the native fake reports uints, so any
        // integer type is accepted; anything else (a string, a double, null) fails.
        public static void Number(long expected, object actual, string what)
        {
            if (!IsInteger(actual) || Convert.ToDecimal(actual) != expected)
                throw new AssertionFailed(string.Format("{0}: expected {1}, got {2}", what, expected, Show(actual)));
        }

        public static void True(bool condition, string what)
        {
            if (!condition)
                throw new AssertionFailed(what);
        }

        public static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (T e)
            {
                return e;
            }
            throw new AssertionFailed(what + ": expected " + typeof(T).Name);
        }

        static bool IsInteger(object value)
        {
            return value is sbyte || value is byte || value is short || value is ushort
                || value is int || value is uint || value is long || value is ulong;
        }

        static string Show(object value)
        {
            if (value == null)
                return "null";
            if (value is string)
                return "\"" + value + "\"";
            return value + " (" + value.GetType().Name + ")";
        }
    }

    public static class TestHarness
    {
        // before: runs ahead of each test; after: once a test has passed, returns a complaint (or null);
        // context: printed under a failure (e.g. what a fake recorded). All optional.
        public static int Run(string[] only, Action before = null, Func<string> after = null,
            Func<string> context = null)
        {
            int passed = 0, failed = 0;
            foreach (MethodInfo test in FindTests())
            {
                string name = test.DeclaringType.Name + "." + test.Name;
                if (!Selected(name, only))
                    continue;
                string failure = RunOne(test, before, after);
                if (failure == null)
                {
                    passed++;
                    Console.WriteLine("PASS " + name);
                    continue;
                }
                failed++;
                Console.WriteLine("FAIL " + name + ": " + Indent(failure));
                if (context != null)
                    Console.WriteLine("    " + Indent(context().TrimEnd()));
            }
            Console.WriteLine("{0} passed, {1} failed", passed, failed);
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        static bool Selected(string name, string[] only)
        {
            if (only.Length == 0)
                return true;
            foreach (string part in only)
                if (name.IndexOf(part, StringComparison.Ordinal) >= 0)
                    return true;
            return false;
        }

        // A failing before or after hook fails the test, as the test itself would.
        static string RunOne(MethodInfo test, Action before, Func<string> after)
        {
            try
            {
                if (before != null)
                    before();
                test.Invoke(null, null);
                return after == null ? null : after();
            }
            catch (TargetInvocationException e)
            {
                return Describe(e.InnerException ?? e);
            }
            catch (Exception e)
            {
                return Describe(e);
            }
        }

        static string Describe(Exception e)
        {
            return e is AssertionFailed ? e.Message : e.ToString();
        }

        static string Indent(string text)
        {
            return text.Replace("\n", "\n    ");
        }

        // Declaration order (metadata token), so the output reads like the source.
        static List<MethodInfo> FindTests()
        {
            List<MethodInfo> tests = new List<MethodInfo>();
            foreach (Type type in typeof(TestHarness).Assembly.GetTypes())
            {
                if (!type.Name.EndsWith("Tests", StringComparison.Ordinal))
                    continue;
                foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Static))
                    if (method.ReturnType == typeof(void) && method.GetParameters().Length == 0)
                        tests.Add(method);
            }
            tests.Sort(delegate(MethodInfo a, MethodInfo b)
            {
                int byType = string.CompareOrdinal(a.DeclaringType.Name, b.DeclaringType.Name);
                return byType != 0 ? byType : a.MetadataToken.CompareTo(b.MetadataToken);
            });
            return tests;
        }
    }
}
