#!powershell

# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ..module_utils.BitsJobInfo

# Glue only (docs/dev/design.md section 2): the argument spec, one call into the C# core, and the
# exit. Everything that decides something lives in BitsJobInfo.cs (and the BitsCom.cs it uses),
# where the Mono tests run it. The controller (plugins/action/bits_job_info.py) has already
# normalised the arguments.
# The module never writes, so check mode needs nothing of its own.

$spec = @{
    options = @{
        job = @{ type = 'list'; elements = 'str' }
        all_users = @{ type = 'bool'; default = $true }
        name_timeout = @{ type = 'int'; default = 5 }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$core = [ansible_collections.winbits.bits.plugins.module_utils.BitsJobInfo.JobInfoModule]
$result = $core::RunOnHost($module.Params)
foreach ($key in $result.Keys) {
    $module.Result[$key] = $result[$key]
}

if ($null -ne $result['error']) {
    $module.FailJson($result['error']['message'])
}
$module.ExitJson()
