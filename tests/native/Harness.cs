// A tiny test runner for the interop tests: every public static void method of a test class is a test.
// Prints one PASS/FAIL line per test and "N passed, N failed"; the exit code is 1 when anything failed
// (or nothing ran), so tests/unit/test_native_com.py can fail on it. C# 5.

using System;
using System.Collections.Generic;
using System.Reflection;

namespace WinBits.NativeInterop
{
    public sealed class CheckFailed : Exception
    {
        public CheckFailed(string message) : base(message)
        {
        }
    }

    public static class Check
    {
        public static void True(bool condition, string what)
        {
            if (!condition)
                throw new CheckFailed(what);
        }

        public static void Equal(object expected, object actual, string what)
        {
            if (!Equals(expected, actual))
                throw new CheckFailed(string.Format("{0}: expected {1}, got {2}", what, Show(expected), Show(actual)));
        }

        // The core returns ints and longs (JSON numbers); compare their values.
        public static void Number(long expected, object actual, string what)
        {
            if (!(actual is int || actual is long || actual is uint) || Convert.ToInt64(actual) != expected)
                throw new CheckFailed(string.Format("{0}: expected {1}, got {2}", what, expected, Show(actual)));
        }

        static string Show(object value)
        {
            return value == null ? "null" : string.Format("{0} ({1})", value, value.GetType().Name);
        }
    }

    public static class Harness
    {
        // before: runs ahead of each test; after: returns a complaint (or null) once the test has passed.
        public static int Run(Type tests, string[] only, Action before, Func<string> after, Func<string> context)
        {
            int passed = 0, failed = 0;
            foreach (MethodInfo method in tests.GetMethods(BindingFlags.Public | BindingFlags.Static))
            {
                if (method.ReturnType != typeof(void) || method.GetParameters().Length != 0)
                    continue;
                if (only.Length > 0 && Array.IndexOf(only, method.Name) < 0)
                    continue;
                string failure = null;
                try
                {
                    before();
                    method.Invoke(null, null);
                    failure = after();
                }
                catch (TargetInvocationException e)
                {
                    failure = Describe(e.InnerException ?? e);
                }
                catch (Exception e)
                {
                    failure = Describe(e);
                }
                if (failure == null)
                {
                    passed++;
                    Console.WriteLine("PASS " + method.Name);
                }
                else
                {
                    failed++;
                    Console.WriteLine("FAIL " + method.Name + ": " + failure);
                    Console.WriteLine("  calls the fake recorded:\n    " + context().TrimEnd().Replace("\n", "\n    "));
                }
            }
            Console.WriteLine("{0} passed, {1} failed", passed, failed);
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        static string Describe(Exception e)
        {
            return e is CheckFailed ? e.Message : e.GetType().Name + ": " + e.Message + "\n" + e.StackTrace;
        }
    }
}
