# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller half of the collection's host modules, bits_helper_token and bits_job_info.

- action: the shape both module actions share (check the arguments, run the module once, shape);
- args: the argument plumbing both modules share (declared options, booleans, text checks);
- helper_token, job_info: each module's arguments in and documented result out;
- explain: the host's failure facts turned into messages that say what, why and the fix.

Internal to winbits.bits: not a public API, and it may change in any release. Controller-only code
(plugin_utils): it never runs on a Windows host.
"""
