"""A stand-in for boto3's chime-sdk-voice client: records calls, fails on request."""
calls = []


class NotFoundException(Exception):
    pass


class BadRequestException(Exception):
    pass


class _Exceptions:
    NotFoundException = NotFoundException
    BadRequestException = BadRequestException


class _Client:
    exceptions = _Exceptions

    def __init__(self, region):
        self.region = region

    def create_sip_media_application(self, **kwargs):
        calls.append({"op": "create", "region": self.region, "args": kwargs})
        if kwargs["Name"] == "boom":
            raise BadRequestException("bad name")
        return {"SipMediaApplication": {"SipMediaApplicationId": "new-sma-" + self.region,
                                        "SipMediaApplicationArn": "arn:aws:chime:" + self.region + ":1:sma/x"}}

    def update_sip_media_application(self, **kwargs):
        calls.append({"op": "update", "region": self.region, "args": kwargs})
        return {"SipMediaApplication": {"SipMediaApplicationId": kwargs["SipMediaApplicationId"]}}

    def delete_sip_media_application(self, **kwargs):
        calls.append({"op": "delete", "region": self.region, "args": kwargs})
        if kwargs["SipMediaApplicationId"] == "gone":
            raise NotFoundException("gone")


def client(service, region_name=None):
    assert service == "chime-sdk-voice", service
    return _Client(region_name)
