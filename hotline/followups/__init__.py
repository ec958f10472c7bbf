"""Follow-ups to survivors who consented: scheduled inside their safe hours, on their safe
channel, with neutral wording; the job that sends them.
"""
