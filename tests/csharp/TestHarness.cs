// A tiny test runner: every public static parameterless method of a class whose name ends in "Tests"
// is a test. One line per test, then "N passed, N failed"; the exit code is 1 when any failed (or none
// ran), so a caller cannot mistake an empty run for success. An argument restricts the run to tests
// whose name contains it.

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
                throw new AssertionFailed(string.Format("{0}: expected {1}, got {2}", what, Show(expected), Show(actual)));
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
        public static int Main(string[] args)
        {
            string filter = args.Length > 0 ? args[0] : "";
            int passed = 0, failed = 0;
            foreach (MethodInfo test in FindTests())
            {
                string name = test.DeclaringType.Name + "." + test.Name;
                if (name.IndexOf(filter, StringComparison.Ordinal) < 0)
                    continue;
                string failure = RunOne(test);
                if (failure == null)
                {
                    passed++;
                    Console.WriteLine("PASS " + name);
                }
                else
                {
                    failed++;
                    Console.WriteLine("FAIL " + name + ": " + failure.Replace("\n", "\n    "));
                }
            }
            Console.WriteLine("{0} passed, {1} failed", passed, failed);
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        static string RunOne(MethodInfo test)
        {
            try
            {
                test.Invoke(null, null);
                return null;
            }
            catch (TargetInvocationException e)
            {
                Exception inner = e.InnerException;
                return inner is AssertionFailed ? inner.Message : inner.ToString();
            }
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
