#!powershell

# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# The baseline of the benchmark: an Ansible.Basic module that does nothing, so that what Ansible's
# WinRM path costs can be told apart from what bits_helper_token adds.
$spec = @{
    options = @{}
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.ExitJson()
