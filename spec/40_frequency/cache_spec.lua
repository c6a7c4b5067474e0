-- check_request remembers successful rate/cron validations (it runs before
-- every InvokeCommand/RunCommand); these specs pin what may and may not be
-- reused.
local frequency = require "ecs.frequency"

describe("frequency.check_request validation cache", function()
  local real, calls
  before_each(function()
    real, calls = frequency.validate, 0
    frequency.validate = function(...)
      calls = calls + 1
      return real(...)
    end
  end)
  after_each(function() frequency.validate = real end)

  local now = 1800000000 -- 2027-01-15T08:00:00Z

  it("validates a cron once for repeated requests in the same minute", function()
    for _ = 1, 5 do
      assert.truthy(frequency.check_request({ Frequency = "0 */20 * * * ? Asia/Shanghai" }, { now = now + 1 }))
    end
    assert.are.equal(1, calls)
  end)

  it("validates again for another Timeout, zone option or minute", function()
    local f = "0 */5 * * * ? UTC"
    assert.truthy(frequency.check_request({ Frequency = f }, { now = now }))
    -- every 5 minutes is shorter than a 600 s Timeout: must not reuse the verdict above
    local ok, err = frequency.check_request({ Frequency = f, Timeout = 600 }, { now = now })
    assert.is_nil(ok)
    assert.matches("Timeout", err)
    assert.truthy(frequency.check_request({ Frequency = f }, { now = now, instance_zone = "Europe/Berlin" }))
    assert.truthy(frequency.check_request({ Frequency = f }, { now = now + 120 }))
    assert.are.equal(4, calls)
  end)

  it("never remembers failures or at() times", function()
    for _ = 1, 2 do
      assert.is_nil(frequency.check_request({ Frequency = "0 15 10 ? * 8" }, { now = now }))
      assert.truthy(frequency.check_request({ Frequency = "at(2027-06-06 13:15:30 UTC)" }, { now = now }))
    end
    assert.are.equal(4, calls)
  end)
end)
